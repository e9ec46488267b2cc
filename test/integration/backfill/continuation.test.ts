/**
 * The backfill on DynamoDB Local: a long run continues as new executions when the round bounds are
 * reached, and the same backfill runs with every Map INLINE.
 */
import { metadataNames, sequenceOf } from '../../../core';
import { backfillLambdas, startLocalBackfill } from '../../../local/backfill';
import { withInlineMaps } from '../../../stepfunctions/asl';
import { backfillDefinition } from '../../../stepfunctions/backfill';
import { scanAll } from '../../helpers/dynamo';
import { backfillSuite, depsFor, expectConverged } from '../../helpers/backfill-fixture';

const names = metadataNames();

backfillSuite(({ client, runs, scenario }) => {
  it('continues as new executions when the round bounds are reached, and runs the same with inline Maps', async () => {
    // Prepare
    const env = await scenario('bf-chain', 1_200);
    const deps = depsFor(client, env, { pageBudgetMs: 1 });
    const definition = backfillDefinition();
    const map = definition.States.CopySegments as { ItemProcessor: { ProcessorConfig?: { Mode: string } } };
    expect(map.ItemProcessor.ProcessorConfig?.Mode).toBe('DISTRIBUTED');

    // Act: 2 iterations per segment per round, 2 rounds per execution
    const chained = startLocalBackfill(deps, {
      runId: 'chain',
      totalSegments: 2,
      maxIterationsPerRound: 2,
      maxRoundsPerExecution: 2,
    });
    runs.push(chained);
    await chained.result;

    // Assess
    expect(chained.executions.length).toBeGreaterThan(1);
    const transitions = chained.executions.map(
      (e) => e.events.filter((ev) => ev.type === 'StateEntered').length,
    );
    // Per execution: 2 rounds x 2 segments x 2 iterations x at most 6 states + the outer states.
    for (const n of transitions) expect(n).toBeLessThanOrEqual(2 * 2 * 2 * 6 + 2 * 6 + 10);
    await expectConverged(client, env);
    expect(new Set(chained.executions.map((e) => e.name)).size).toBe(chained.executions.length);

    // Act: the same backfill with every Map INLINE, on fresh tables
    const inlineEnv = await scenario('bf-inline', 600);
    const inline = startLocalBackfill(
      depsFor(client, inlineEnv),
      { runId: 'inline', totalSegments: 3 },
      {
        definition: withInlineMaps(definition),
        lambdas: backfillLambdas(depsFor(client, inlineEnv)),
      },
    );
    runs.push(inline);
    await inline.result;
    await expectConverged(client, inlineEnv);
    const seqs = (await scanAll(client, inlineEnv.migration.newTable.tableName)).map((i) =>
      sequenceOf(i, names),
    );
    expect(new Set(seqs)).toEqual(new Set(['0'.repeat(40)]));
  });
});
