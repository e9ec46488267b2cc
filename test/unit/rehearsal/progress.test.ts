import { Writable } from 'node:stream';
import { Progress, type ProgressSnapshot, describeStatus } from '../../../local/rehearsal/progress';

const snapshot: ProgressSnapshot = {
  phase: 'DUAL_READ',
  segments: [
    { segment: 0, scanned: 400, done: true },
    { segment: 1, scanned: 350, done: false },
  ],
  items: 1000,
  frontierLagMs: 1250,
  readsByStore: { new: 30, legacy: 12 },
  readsByPhase: { SHADOW: { legacy: 10 }, DUAL_READ: { new: 30, legacy: 2 } },
};

describe('Function: describeStatus', () => {
  it('shows the phase, backfill, frontier lag and the read mix by store and by phase', () => {
    expect(describeStatus(snapshot)).toBe(
      'phase DUAL_READ · backfill 750/1000 scanned · frontier lag 1.3 s · reads legacy 12, new 30 ' +
        '(SHADOW: legacy 10; DUAL_READ: legacy 2, new 30)',
    );
  });

  it('says n/a without a frontier and none without reads', () => {
    expect(describeStatus({ ...snapshot, frontierLagMs: null, readsByStore: {}, readsByPhase: {} })).toBe(
      'phase DUAL_READ · backfill 750/1000 scanned · frontier lag n/a · reads none',
    );
  });
});

describe('Class: Progress (not a TTY)', () => {
  it('prints plain timestamped lines, the status at most every 5 s', () => {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    let t = Date.parse('2026-12-04T12:00:00Z');
    const progress = new Progress(out, () => t);
    progress.update(snapshot);
    t += 1000;
    progress.update(snapshot);
    t += 5000;
    progress.line('advanced SHADOW → DUAL_READ');
    expect(text.split('\n').filter(Boolean)).toEqual([
      `2026-12-04T12:00:00.000Z status: ${describeStatus(snapshot)}`,
      '2026-12-04T12:00:06.000Z advanced SHADOW → DUAL_READ',
    ]);
  });
});
