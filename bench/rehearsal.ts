/**
 * `npm run bench -- rehearsal`: the whole rehearsal at its defaults (20,000 items, 100 writes/s,
 * 100 reads/s, 60 s of dwell) on a fresh DynamoDB Local. Prints the wall-clock time (target: under
 * 3 minutes on a 2-core machine) and the ratio of the workload's achieved legacy write rate to the
 * requested rate, side by side (target 0.8: the live workload really ran at the rate asked for, while
 * CDC, the tracker, the backfill, verification and the read API shared the machine with it).
 * Overrides: BENCH_REHEARSAL_ITEMS, BENCH_REHEARSAL_WRITE_RATE, BENCH_REHEARSAL_READ_RATE,
 * BENCH_REHEARSAL_DURATION (seconds of dwell).
 */
import '../local/promise-polyfill';
import { usersMigration } from '../examples/users/migration';
import { REHEARSAL_DEFAULTS } from '../local/rehearsal/options';
import { rehearse } from '../local/rehearsal/rehearse';
import type { Benchmark } from './harness';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';

const ITEMS = Number(process.env.BENCH_REHEARSAL_ITEMS ?? REHEARSAL_DEFAULTS.items);
const WRITE_RATE = Number(process.env.BENCH_REHEARSAL_WRITE_RATE ?? REHEARSAL_DEFAULTS.writeRate);
const READ_RATE = Number(process.env.BENCH_REHEARSAL_READ_RATE ?? REHEARSAL_DEFAULTS.readRate);
const DURATION = Number(process.env.BENCH_REHEARSAL_DURATION ?? REHEARSAL_DEFAULTS.duration);

export const benchmark: Benchmark = {
  name: 'rehearsal',
  description: 'the whole rehearsal at its defaults: wall-clock time, achieved ÷ requested legacy write rate',
  async run(ctx) {
    const started = performance.now();
    const report = await rehearse({
      migration: usersMigration,
      endpoint: ctx.endpoint,
      controlTableName: 'dualread-control-users',
      items: ITEMS,
      writeRate: WRITE_RATE,
      readRate: READ_RATE,
      dwellMs: (DURATION * 1000) / 5,
      seed: 1,
      jvmPid: ctx.dynamo.pid,
      onEvent: (line) => ctx.log(`  ${line}`),
    });
    const seconds = (performance.now() - started) / 1000;
    const ratio = report.writes.achievedPerSecond / report.writes.requestedPerSecond;
    return {
      ratio,
      target: 0.8,
      pass: ratio >= 0.8 && seconds < 180 && report.passed,
      details: {
        seconds: Number(seconds.toFixed(1)),
        secondsTarget: 180,
        invariantsPassed: String(report.passed),
        items: ITEMS,
        requestedWritesPerSecond: report.writes.requestedPerSecond,
        achievedWritesPerSecond: report.writes.achievedPerSecond,
        reads: report.reads.total,
        nodePeakRssMiB: Math.round(report.memory.nodePeakRssBytes / 1048576),
        jvmPeakRssMiB:
          report.memory.jvmPeakRssBytes === null
            ? 'n/a'
            : Math.round(report.memory.jvmPeakRssBytes / 1048576),
      },
    };
  },
};
