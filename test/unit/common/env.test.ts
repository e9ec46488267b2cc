import { BackfillInputError } from '../../../core/backfill';
import type { Migration } from '../../../core/model';
import { VerifyInputError } from '../../../core/verify';
import { usersMigration } from '../../../examples/users/migration';
import { buildBackfillDeps } from '../../../lambdas/backfill/deps';
import { buildFrontierDeps } from '../../../lambdas/frontier/deps';
import { buildReadDeps } from '../../../lambdas/read/deps';
import { Env, envReader, migrationFromEnv } from '../../../lambdas/common/env';
import { buildSyncDeps } from '../../../lambdas/sync/deps';
import { buildVerifyDeps } from '../../../lambdas/verify/deps';

const SCHEMA = {
  TABLE: Env.text(),
  OVERRIDE: Env.optionalText(),
  BUDGET_MS: Env.nonNegativeNumber(),
  WAIT_MS: Env.nonNegativeNumber(250),
  CONCURRENCY: Env.wholeNumber(16),
  MODE: Env.oneOf(['partiql', 'put', 'transact'], 'partiql'),
  MIGRATION_ID: Env.text(),
} as const;

function reader(env: NodeJS.ProcessEnv) {
  return envReader(SCHEMA, env, { functionName: 'test' });
}

describe('Function: envReader', () => {
  it('reads a value of each kind', () => {
    // Prepare
    const e = reader({
      TABLE: 'control',
      OVERRIDE: 'orders',
      BUDGET_MS: '1.5',
      WAIT_MS: '0',
      CONCURRENCY: '8',
      MODE: 'transact',
    });

    // Act / Assess
    expect([
      e.get('TABLE'),
      e.get('OVERRIDE'),
      e.get('BUDGET_MS'),
      e.get('WAIT_MS'),
      e.get('CONCURRENCY'),
      e.get('MODE'),
    ]).toEqual(['control', 'orders', 1.5, 0, 8, 'transact']);
  });

  it.each([
    ['unset', {}],
    ['empty', { OVERRIDE: '', BUDGET_MS: '', WAIT_MS: '', CONCURRENCY: '', MODE: '' }],
  ])('gives the default of an optional variable that is %s', (_case, env) => {
    // Prepare
    const e = reader(env);

    // Act / Assess
    expect([
      e.get('OVERRIDE'),
      e.get('BUDGET_MS'),
      e.get('WAIT_MS'),
      e.get('CONCURRENCY'),
      e.get('MODE'),
    ]).toEqual([undefined, undefined, 250, 16, 'partiql']);
  });

  it.each([
    ['unset', {}],
    ['empty', { TABLE: '' }],
  ])('refuses a required variable that is %s, naming the function that sets it', (_case, env) => {
    expect(() => reader(env).get('TABLE')).toThrow(
      new Error('environment variable TABLE is not set; the stack sets it on the test function'),
    );
  });

  it.each<[keyof typeof SCHEMA, string, string]>([
    ['BUDGET_MS', 'soon', 'a non-negative number'],
    ['BUDGET_MS', '-1', 'a non-negative number'],
    ['WAIT_MS', 'Infinity', 'a non-negative number'],
    ['CONCURRENCY', '0', 'a whole number of at least 1'],
    ['CONCURRENCY', '2.5', 'a whole number of at least 1'],
    ['MODE', 'batch', 'partiql, put or transact'],
  ])('refuses a malformed %s (%s), saying what it must be', (name, value, must) => {
    expect(() => reader({ [name]: value }).get(name)).toThrow(
      new Error(
        `environment variable ${name} must be ${must}, not "${value}"; the stack sets it on the test function`,
      ),
    );
  });

  it('throws the function’s own error class', () => {
    // Prepare
    const e = envReader(SCHEMA, {}, { functionName: 'backfill', error: (m) => new BackfillInputError(m) });

    // Act / Assess
    expect(() => e.get('TABLE')).toThrow(BackfillInputError);
    expect(e.missing('OVERRIDE', 'and the migration names none').message).toBe(
      'environment variable OVERRIDE is not set and the migration names none; the stack sets it on the backfill function',
    );
  });
});

describe('Function: migrationFromEnv', () => {
  const other: Migration = { ...usersMigration, id: 'others' };

  it('takes the migration MIGRATION_ID names, or the one given without reading the variable', () => {
    expect(migrationFromEnv(reader({ MIGRATION_ID: 'others' }), [usersMigration, other])).toBe(other);
    expect(migrationFromEnv(reader({}), [usersMigration], other)).toBe(other);
  });

  it('refuses an id that is not in the definitions, listing those that are', () => {
    expect(() => migrationFromEnv(reader({ MIGRATION_ID: 'nope' }), [usersMigration, other])).toThrow(
      'environment variable MIGRATION_ID must be one of the bundled definitions\' migrations (users, others), not "nope"; ' +
        'the stack sets it on the test function',
    );
  });
});

describe('Lambda wiring: one error style', () => {
  const env = {
    MIGRATION_ID: 'users',
    CONTROL_TABLE_NAME: 'control',
    LEGACY_STREAM_ARN: 'arn',
    PAGE_TOKEN_SECRET_ARN: 'arn:secret',
  };
  const noControlTable = { MIGRATION_ID: 'users', LEGACY_STREAM_ARN: 'arn' };

  it.each<[string, (env: NodeJS.ProcessEnv) => unknown, string, new (m: string) => Error]>([
    ['sync', (e) => buildSyncDeps({ env: e }), 'CONTROL_TABLE_NAME', Error],
    ['frontier', (e) => buildFrontierDeps({ env: e }), 'CONTROL_TABLE_NAME', Error],
    ['read', (e) => buildReadDeps([usersMigration], e), 'CONTROL_TABLE_NAME', Error],
    ['backfill', (e) => buildBackfillDeps({ env: e }), 'CONTROL_TABLE_NAME', BackfillInputError],
    ['verification', (e) => buildVerifyDeps({ env: e }), 'CONTROL_TABLE_NAME', VerifyInputError],
  ])('the %s function refuses a missing variable', (fn, build, name, errorClass) => {
    expect(() => build(noControlTable)).toThrow(errorClass);
    expect(() => build(noControlTable)).toThrow(
      `environment variable ${name} is not set; the stack sets it on the ${fn} function`,
    );
  });

  it.each<[string, (env: NodeJS.ProcessEnv) => unknown, string, string]>([
    ['sync', (e) => buildSyncDeps({ env: e }), 'ORDER_TOLERANCE_MS', 'a non-negative number'],
    ['frontier', (e) => buildFrontierDeps({ env: e }), 'LOOP_INTERVAL_MS', 'a non-negative number'],
    ['read', (e) => buildReadDeps([usersMigration], e), 'READ_NEW_TIMEOUT_MS', 'a non-negative number'],
    ['backfill', (e) => buildBackfillDeps({ env: e }), 'BACKFILL_WRITE_MODE', 'partiql, put or transact'],
    ['verification', (e) => buildVerifyDeps({ env: e }), 'VERIFY_BUDGET_MS', 'a non-negative number'],
  ])('the %s function refuses a malformed variable', (fn, build, name, must) => {
    expect(() => build({ ...env, [name]: 'x' })).toThrow(
      `environment variable ${name} must be ${must}, not "x"; the stack sets it on the ${fn} function`,
    );
  });
});
