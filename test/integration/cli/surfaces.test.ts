/**
 * `dualread surfaces` and the coverage guardrail end to end against DynamoDB Local, through the real
 * binary as a child process: the example's legacy table (its index `users-by-email`) shows both
 * surfaces with their counts from the control table and exits 0; a legacy table with one more GSI
 * shows it UNMAPPED, exits 2, and `advance` refuses SHADOW → DUAL_READ naming the index and the fix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlStore } from '../../../adapters/control-store';
import { ShadowCounters } from '../../../adapters/shadow-counters';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { ExitCode } from '../../../cli/exit-codes';
import type { SurfacesReport } from '../../../cli/commands/surfaces';
import { BackfillStatus, Phase, initialState } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import { ROOT, cliTarget } from '../../helpers/cli';
import { testClient, uniqueName } from '../../helpers/dynamo';

describe('CLI: dualread surfaces (DynamoDB Local)', () => {
  const client = testClient();
  const control = uniqueName('surf-control');
  const users = uniqueName('surf-users');
  const phones = uniqueName('surf-phones');

  const { definitions, dualread, inProcess } = cliTarget('surfaces', control);

  beforeAll(async () => {
    // The example migration twice, on two legacy tables: one as declared, one with an extra GSI.
    writeFileSync(
      definitions,
      `import { usersMigration } from ${JSON.stringify(join(ROOT, 'examples/users/migration'))};
const at = (id: string, table: string) => ({
  ...usersMigration,
  id,
  legacyTable: { ...usersMigration.legacyTable, tableName: table },
  newTable: { ...usersMigration.newTable, tableName: table + '-new' },
});
export const migrations = [at('users', ${JSON.stringify(users)}), at('phones', ${JSON.stringify(phones)})];
`,
    );
    const { key, indexes = [] } = usersMigration.legacyTable;
    await Promise.all([
      createTable(client, control, CONTROL_TABLE_KEY),
      createTable(client, users, key, { indexes }),
      createTable(client, phones, key, {
        indexes: [
          ...indexes,
          { name: 'users-by-phone', key: { partitionKey: { name: 'phone', type: 'S' } } },
        ],
      }),
    ]);
    // The read path's counters of the example: by-email compared 40 times (1 mismatch), 30 pages served.
    const counters = new ShadowCounters(client, control, 'users');
    const now = Date.now();
    for (let i = 0; i < 40; i += 1) counters.record(i === 0 ? 'missing' : 'match', now, 'by-email');
    for (let i = 0; i < 30; i += 1) counters.served('by-email', 'legacy', now);
    counters.served('base', 'new', now);
    await counters.drain();
    const shadow = { ...initialState('phones', 0, now), phase: Phase.SHADOW };
    await new ControlStore(client, control, 'phones').changeState(
      undefined,
      { ...shadow, backfill: { status: BackfillStatus.COMPLETE, completedAt: now - 60_000, unresolved: 0 } },
      { migrationId: 'phones', at: now, actor: 'test', action: 'setup', reason: 'test' },
      'setup',
    );
  });
  afterAll(() => client.destroy());

  it("shows the example's index mapped by by-email and both surfaces with their counts, exit 0", async () => {
    // Act
    const text = await dualread('--migration', 'users', 'surfaces');
    const json = await inProcess('--migration', 'users', '--json', 'surfaces');

    // Assess
    expect([text.code, text.stderr]).toEqual([ExitCode.OK, '']);
    expect(text.stdout).toMatch(/indexes from DescribeTable/);
    expect(text.stdout).toMatch(/users-by-email\s*│\s*GSI\s*│\s*surface by-email/);
    const report = JSON.parse(json.stdout) as SurfacesReport;
    expect(json.code).toBe(ExitCode.OK);
    expect(report).toMatchObject({ covered: true, indexesFrom: 'table', missingIndexes: [] });
    expect(report.indexes).toEqual([
      { index: 'users-by-email', kind: 'global', status: 'mapped', surfaces: ['by-email'] },
    ]);
    expect(
      report.surfaces.map((s) => [
        s.surface,
        s.legacyPath,
        s.newPath,
        s.servedLegacy,
        s.servedNew,
        s.compared,
        s.mismatches,
      ]),
    ).toEqual([
      ['base', 'table', 'table', 0, 1, 0, 0],
      ['by-email', 'users-by-email', 'GSI1', 30, 0, 40, 1],
    ]);
    expect(report.surfaces[1]?.mismatchRate).toBeCloseTo(0.025);
  });

  it("limits one surface's rollout, audited, and refuses an undeclared surface with exit 4", async () => {
    // Act
    const limited = await inProcess(
      '--migration',
      'users',
      '--json',
      'rollout',
      '--surface',
      'by-email',
      '--percent',
      '0',
      '--reason',
      'GSI1 not ready',
    );
    const unknown = await inProcess(
      '--migration',
      'users',
      '--json',
      'rollout',
      '--surface',
      'by-name',
      '--percent',
      '0',
    );

    // Assess
    expect(limited.code).toBe(ExitCode.OK);
    expect(JSON.parse(limited.stdout)).toMatchObject({
      surface: 'by-email',
      surfaceRolloutPercent: 0,
      state: { settings: { surfaces: { 'by-email': { rollout: 0 } } } },
      audit: {
        action: 'rollout',
        from: 'unlimited',
        to: '0',
        detail: { surface: 'by-email' },
        reason: 'GSI1 not ready',
      },
    });
    expect(unknown.code).toBe(ExitCode.USAGE);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      error: { message: 'unknown query surface "by-name"; this migration declares "base", "by-email"' },
    });
  });

  it('shows an undeclared legacy GSI as UNMAPPED with exit 2, and advance refuses DUAL_READ naming it', async () => {
    // Act
    const listed = await dualread('--migration', 'phones', 'surfaces');
    const refused = await dualread('--migration', 'phones', 'advance');

    // Assess
    expect(listed.code).toBe(ExitCode.GUARDRAIL_UNMET);
    expect(listed.stdout).toMatch(
      /users-by-phone\s*│\s*GSI\s*│\s*UNMAPPED: map it in `queries` or declare it in `legacyTable.unusedIndexes`/,
    );
    expect(refused.code).toBe(ExitCode.GUARDRAIL_UNMET);
    expect(refused.stderr).toMatch(/cannot advance from SHADOW to DUAL_READ/);
    expect(refused.stderr).toMatch(
      /✗ legacy-indexes-covered +legacy index "users-by-phone" \(GSI\) is not mapped by any query surface: map it in `queries` or declare it in `legacyTable.unusedIndexes` with a reason/,
    );
    expect(refused.stderr).toMatch(
      /✗ surface-shadow:by-email +query surface "by-email": 0 shadow comparisons/,
    );
  });
});
