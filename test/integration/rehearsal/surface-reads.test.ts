/**
 * The rehearsal's query-surface workload on DynamoDB Local: `by-email` queried through the local read
 * API's GET route in every mode, with partition values sampled from the legacy index, counted per
 * mode and per serving store, and the shadow comparisons of its pages counted per surface.
 */
import { Phase } from '../../../core/control';
import { usersMigration } from '../../../examples/users/migration';
import { NO_TELEMETRY } from '../../../lambdas/read/telemetry';
import { type ReadApiServer, startReadApiServer } from '../../../local/http-server';
import { SurfaceReads } from '../../../local/rehearsal/surface-reads';
import { type ReadFixture, handlerFor, readFixture, user } from '../../helpers/read-fixture';
import { waitUntil } from '../../helpers/wait';

describe('Class: SurfaceReads (DynamoDB Local)', () => {
  let f: ReadFixture;
  let server: ReadApiServer;
  let surfaceReads: SurfaceReads;

  beforeAll(async () => {
    f = await readFixture(usersMigration, { controlCacheMs: 0, indexPropagationMarginMs: 50 });
    for (const id of ['u-1', 'u-2', 'u-3']) {
      const u = user(id, { email: { S: `${id}@example.com` } });
      await f.putLegacy(u);
      await f.putNew(u);
    }
    await f.setState(Phase.NEW_PRIMARY, { backfillComplete: true });
    await f.setFrontier(Date.now() + 60_000);
    surfaceReads = new SurfaceReads({ migration: f.migration, client: f.client, seed: 7, ratePerSecond: 50 });
    const handler = handlerFor(f, {
      telemetry: { ...NO_TELEMETRY, comparison: (e) => surfaceReads.compared(e) },
      options: { newTimeoutMs: 30_000 },
    });
    server = await startReadApiServer({ handler });
  });
  afterAll(async () => {
    await surfaceReads.stop();
    await server.close();
    f.destroy();
  });

  it('queries by-email in every mode from both stores, without errors, and counts its comparisons', async () => {
    // Act
    surfaceReads.start(server.url);
    await waitUntil(
      'two reads of by-email in each mode and one strong-mode comparison',
      () => {
        const t = surfaceReads.tallies.get('by-email');
        return ['legacy', 'shadow', 'bounded', 'strong', 'new'].every((m) => (t?.reads[m] ?? 0) >= 2);
      },
      { detail: () => JSON.stringify(surfaceReads.extras()) },
    );
    await surfaceReads.stop();

    // Assess
    const x = surfaceReads.extras();
    expect([...surfaceReads.tallies.keys()]).toEqual(['by-email']);
    expect(x['surface.by-email.errors']).toBe(0);
    expect(x['surface.by-email.served.legacy']).toBeGreaterThan(0);
    expect(x['surface.by-email.served.new']).toBeGreaterThan(0);
    expect(x['surface.by-email.mismatches']).toBe(0);
    expect(x['surface.by-email.compared']).toBeGreaterThan(0);
  });
});
