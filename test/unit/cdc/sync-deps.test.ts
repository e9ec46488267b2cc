import { buildSyncDeps } from '../../../lambdas/sync/deps';

describe('Function: buildSyncDeps', () => {
  const env = { MIGRATION_ID: 'users', CONTROL_TABLE_NAME: 'control', NEW_TABLE_NAME: 'app-data' };

  it('finds the migration in the bundled definitions and reads the optional settings', () => {
    const deps = buildSyncDeps({ env: { ...env, TOMBSTONE_MARGIN_HOURS: '48', ORDER_TOLERANCE_MS: '2000' } });
    expect(deps.migration.id).toBe('users');
    expect(deps.tombstoneMarginMs).toBe(48 * 3600_000);
    expect(deps.orderToleranceMs).toBe(2000);
  });

  it.each([
    ['a missing control table name', { MIGRATION_ID: 'users' }, /CONTROL_TABLE_NAME is not set/],
    [
      'an unknown migration',
      { ...env, MIGRATION_ID: 'nope' },
      /MIGRATION_ID must be one of the bundled definitions' migrations \(users\), not "nope"/,
    ],
    [
      'a margin that is not a number',
      { ...env, TOMBSTONE_MARGIN_HOURS: 'soon' },
      /TOMBSTONE_MARGIN_HOURS must be/,
    ],
  ])('refuses %s', (_label, e, message) => {
    expect(() => buildSyncDeps({ env: e })).toThrow(message);
  });
});
