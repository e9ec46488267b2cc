/**
 * The judgement of a run restarted after its worker was killed (local/faults/runs.ts): it resumed where
 * it stopped only if every part-way segment restarted at its checkpoint's key and no done segment was
 * scanned again.
 */
import { KillableProcess, stableJson } from '../../../local/faults/processes';
import type { DynamoEndpoint } from '../../../adapters/dynamodb';
import type { Json } from '../../../stepfunctions/asl';
import type { LocalChain } from '../../../local/state-machine-runner';
import { MAX_WAITED_REFUSALS, judgeResume, positionOf, restartingRun } from '../../../local/faults/runs';

const tables = { legacy: 'legacy', new: 'new', control: 'control' };
const key = { pk: { S: 'user#7' } };

function processWithScans(scans: Array<{ segment: number; startKey: unknown }>): KillableProcess {
  const p = new KillableProcess('backfill', { afterCalls: [1, 1], maxKills: 1 }, tables, 1);
  for (const s of scans)
    p.scans.push({
      incarnation: 2,
      table: 'legacy',
      segment: s.segment,
      startKey: s.startKey === undefined ? null : stableJson(s.startKey),
    });
  return p;
}

const atKill = [
  positionOf('segment ', 'legacy', { segment: 0, done: true, pages: 2, scanned: 200 }),
  positionOf('segment ', 'legacy', {
    segment: 1,
    done: false,
    pages: 1,
    scanned: 100,
    lastEvaluatedKey: key,
  }),
];

describe('judgeResume', () => {
  it('passes a restart that goes on from the checkpoints', () => {
    const r = judgeResume(processWithScans([{ segment: 1, startKey: { pk: { S: 'user#7' } } }]), 1, atKill);
    expect(r.problems).toEqual([]);
    expect(r.resumedWhereStopped).toBe(true);
  });

  it('fails a restart from zero and a done segment scanned again', () => {
    const r = judgeResume(
      processWithScans([
        { segment: 0, startKey: undefined },
        { segment: 1, startKey: undefined },
      ]),
      1,
      atKill,
    );
    expect(r.resumedWhereStopped).toBe(false);
    expect(r.problems).toEqual([
      'segment 0 was done at the kill but the restarted run scanned it again',
      `segment 1 had a checkpoint at ${stableJson(key)} but the restarted run started it at the start`,
    ]);
  });

  it('says so when nothing was checkpointed before the kill', () => {
    const none = [positionOf('segment ', 'legacy', { segment: 0, done: false, pages: 0, scanned: 0 })];
    expect(judgeResume(processWithScans([]), 1, none).problems).toEqual([
      'nothing was checkpointed before the kill: the resume cannot be told from a restart at zero',
    ]);
  });
});

describe('restartingRun', () => {
  const base = { endpoint: 'http://localhost:1', region: 'local' } as unknown as DynamoEndpoint;
  /** A run that ends with each of `outcomes` in turn (an Error rejects), recording the endpoints used. */
  function runs(outcomes: Array<Json | Error>) {
    const endpoints: DynamoEndpoint[] = [];
    const start = (endpoint: DynamoEndpoint): LocalChain => {
      endpoints.push(endpoint);
      const next = outcomes.shift() as Json | Error;
      const result = next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      return { result, settled: async () => undefined, abort: () => undefined } as unknown as LocalChain;
    };
    return { endpoints, start };
  }
  const refused = new Error('CdcNotConsumingError');

  it('starts the run again on the same incarnation when a refusal is waited out', async () => {
    // Prepare
    const process = new KillableProcess('backfill', { afterCalls: [1000, 1000], maxKills: 1 }, tables, 1);
    const r = runs([refused, { done: true }]);
    const waited: unknown[] = [];

    // Act
    const value = await restartingRun({
      process,
      base,
      start: r.start,
      positions: async () => [],
      waitOut: async (err) => waited.push(err) > 0,
    }).result;

    // Assess
    expect(value).toEqual({ done: true });
    expect(waited).toEqual([refused]);
    expect(r.endpoints).toHaveLength(2);
    expect(r.endpoints[1]).toBe(r.endpoints[0]);
  });

  it('fails with the refusal when it is not waited out, and after at most MAX_WAITED_REFUSALS', async () => {
    // Prepare
    const process = new KillableProcess('backfill', { afterCalls: [1000, 1000], maxKills: 1 }, tables, 1);
    const never = runs([refused]);
    const always = runs(Array.from({ length: MAX_WAITED_REFUSALS + 1 }, () => refused));

    // Act
    const notWaited = restartingRun({ process, base, start: never.start, positions: async () => [] });
    const waitedOut = restartingRun({
      process,
      base,
      start: always.start,
      positions: async () => [],
      waitOut: async () => true,
    });

    // Assess
    await expect(notWaited.result).rejects.toBe(refused);
    await expect(waitedOut.result).rejects.toBe(refused);
    expect(always.endpoints).toHaveLength(MAX_WAITED_REFUSALS + 1);
  });
});
