/**
 * The deployed backfill bundle (lambdas/backfill/index.ts as esbuild bundles it for Lambda, with the
 * definitions alias) wires itself from the environment and runs against DynamoDB Local: what CDK
 * deploys is the code the other tests exercise.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ControlStore } from '../../../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { ControlKey, type SegmentCheckpoint } from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import { LOCAL_CREDENTIALS } from '../../../local/dynamodb-local';
import { LegacyWorkload } from '../../../local/workload';
import type { SegmentPayload } from '../../../lambdas/backfill/context';
import type { ControlsResult } from '../../../lambdas/backfill/controls';
import type { PageResult } from '../../../lambdas/backfill/page';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';

const ROOT = join(__dirname, '..', '..', '..');

describe('Bundle: lambdas/backfill', () => {
  const client = testClient();
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
    client.destroy();
  });

  it('copies a segment through the bundled page handler configured only by environment variables', async () => {
    // Prepare: tables, a legacy population, and the bundle
    const legacy = uniqueName('bundle-legacy');
    const target = uniqueName('bundle-new');
    const control = uniqueName('bundle-control');
    await createTable(client, legacy, usersMigration.legacyTable.key);
    await createTable(client, target, usersMigration.newTable.key);
    await createTable(client, control, CONTROL_TABLE_KEY);
    await new LegacyWorkload({
      client,
      tableName: legacy,
      key: usersMigration.legacyTable.key,
      keyCount: 250,
    }).populate();
    const out = join(mkdtempSync(join(tmpdir(), 'dualread-bundle-')), 'index.js');
    buildSync({
      entryPoints: [join(ROOT, 'lambdas', 'backfill', 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: out,
      logLevel: 'silent',
      alias: { 'dualread-definitions': join(ROOT, 'examples', 'users', 'migrations.ts') },
    });
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: testEndpoint().endpoint,
      MIGRATION_ID: 'users',
      CONTROL_TABLE_NAME: control,
      LEGACY_TABLE_NAME: legacy,
      NEW_TABLE_NAME: target,
      BACKFILL_PAGE_BUDGET_MS: '30000',
      BACKFILL_WRITE_MODE: 'transact',
    });

    // Act
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(out) as {
      controls: (p: SegmentPayload) => Promise<ControlsResult>;
      page: (p: SegmentPayload) => Promise<PageResult>;
    };
    const payload = { runId: 'bundle', segment: 0, totalSegments: 1 };
    const before = await bundle.controls(payload);
    const result = await bundle.page(payload);
    const after = await bundle.controls(payload);

    // Assess
    expect(before).toEqual({ done: false, paused: false, waitSeconds: 0, rateLimitPerSecond: 0 });
    expect(result).toMatchObject({ status: 'DONE', done: true, scanned: 250, copied: 250, poison: 0 });
    expect(after.done).toBe(true);
    const cp = await new ControlStore(client, control, 'users').get<SegmentCheckpoint>(ControlKey.segment(0));
    expect(cp).toMatchObject({ done: true, copied: 250, runId: 'bundle' });
  });
});
