/**
 * The backfill's adaptive rate on DynamoDB Local: when the new-table writes are throttled (injected by
 * SDK middleware as `ProvisionedThroughputExceededException`, as AWS answers), the page worker halves the
 * rate in force in STATE and logs it; once the throttling stops it raises the rate back to its ceiling.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ControlKey, type MigrationState } from '../../../core/control';
import { DEFAULT_RATE_TUNING } from '../../../core/backfill';
import type { BackfillDeps } from '../../../lambdas/backfill/context';
import { startLocalBackfill } from '../../../local/backfill';
import { testClient } from '../../helpers/dynamo';
import { backfillScenarios, depsFor, expectConverged } from '../../helpers/backfill-fixture';

jest.setTimeout(120_000);

describe('Integration: backfill rate under throttling', () => {
  const { client, runs, scenario } = backfillScenarios();

  it('slows down when the new-table writes are throttled and speeds up again when they are not', async () => {
    // Prepare: one segment, pages of 20 items, a ceiling of 200 items/s; a client whose 5th and 6th
    // BatchExecuteStatement (the partiql writes) are refused as throttled
    const env = await scenario('bf-throttle', 300, true, 20);
    const ceiling = 200;
    env.migration = { ...env.migration, backfill: { ...env.migration.backfill, maxRatePerSecond: ceiling } };
    const throttling = testClient();
    let writes = 0;
    throttling.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchExecuteStatementCommand' && [5, 6].includes(++writes))
          throw new ProvisionedThroughputExceededException({
            message: 'The level of configured provisioned throughput for the table was exceeded',
            $metadata: { httpStatusCode: 400 },
          });
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const rates: Array<{ message: string; inForce: number }> = [];
    const record = (message: string, extra: Record<string, unknown>) => {
      if (typeof extra.rateInForce === 'number') rates.push({ message, inForce: extra.rateInForce });
    };
    const deps: BackfillDeps = {
      ...depsFor(throttling, env, {
        pageBudgetMs: 60_000,
        rateTuning: { ...DEFAULT_RATE_TUNING, increaseEveryMs: 150 },
      }),
      log: { info: record, warn: record },
    };

    // Act
    const run = startLocalBackfill(deps, { runId: 'throttle', totalSegments: 1 });
    runs.push(run);
    await run.result;
    const state = await env.store.get<MigrationState>(ControlKey.STATE);
    throttling.destroy();

    // Assess: lowered to half on the throttled page, raised step by step back to the ceiling
    const lowered = rates.findIndex((r) => r.message.includes('lowered'));
    expect(lowered).toBeGreaterThanOrEqual(0);
    expect(rates[lowered]?.inForce).toBe(ceiling / 2);
    const after = rates.slice(lowered + 1).map((r) => r.inForce);
    expect(after.length).toBeGreaterThan(0);
    expect(after).toEqual([...after].sort((a, b) => a - b));
    expect(after.at(-1)).toBe(ceiling);
    expect(state?.backfill.rate).toMatchObject({ ceiling, inForce: ceiling, throttles: 1 });
    expect(state?.backfill.status).toBe('COMPLETE');
    await expectConverged(client, env);
  });
});
