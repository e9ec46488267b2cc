/**
 * The judgement of a run restarted after its worker was killed (local/faults/runs.ts): it resumed where
 * it stopped only if every part-way segment restarted at its checkpoint's key and no done segment was
 * scanned again.
 */
import { KillableProcess, stableJson } from '../../../local/faults/processes';
import { judgeResume, positionOf } from '../../../local/faults/runs';

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
