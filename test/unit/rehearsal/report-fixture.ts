/**
 * A small recorded rehearsal report (a real run of 1,000 items, its time series thinned), for the tests
 * of the summary and the HTML report. Its parts are in ./fixtures/: the checks, the timeline, the time
 * series, the reads and verifications.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';
import { CHECKS } from './fixtures/checks';
import { READS, VERIFICATIONS } from './fixtures/reads';
import { BACKFILL, CDC_LAG_MS, FRONTIER_LAG_MS } from './fixtures/series';
import { TIMELINE } from './fixtures/timeline';

/** A fresh copy of the recorded report. */
export function reportFixture(): RehearsalReport {
  return structuredClone(REPORT);
}

const REPORT: RehearsalReport = {
  migrationId: 'users',
  settings: {
    items: 1000,
    writeRate: 100,
    readRate: 100,
    dwellMs: 2000,
    seed: 1,
    data: false,
  },
  startedAt: '2026-12-04T17:42:16.681Z',
  durationMs: 132869,
  passed: true,
  checks: CHECKS,
  timeline: TIMELINE,
  backfill: BACKFILL,
  cdcLagMs: CDC_LAG_MS,
  frontierLagMs: FRONTIER_LAG_MS,
  lateRecords: 0,
  reads: READS,
  shadowComparisons: {
    match: 124,
    'within-lag': 14,
  },
  verifications: VERIFICATIONS,
  writes: {
    requestedPerSecond: 100,
    achievedPerSecond: 22.8,
    acknowledged: 2250,
    failed: 0,
  },
  memory: {
    nodePeakRssBytes: 232353792,
    jvmPeakRssBytes: 604180480,
  },
  audit: [
    'init \u2192 migration created',
    'advance LEGACY_ONLY\u2192BACKFILLING CDC is consuming: start the backfill',
    'backfill-start NOT_STARTED\u2192RUNNING backfill started by execution arn:aws:states:local:000000000000:execution:dualread-backfill-users:98f458b0-0835-4a70-910f-5238e31e9e8d; local stream poller consuming arn:aws:dynamodb:ddblocal:000000000000:table/users/stream/2026-12-04T17:42:39.150 from TRIM_HORIZON since 1796406159786',
    'backfill-complete RUNNING\u2192COMPLETE all 4 segments scanned: 832 copied, 133 already present, 0 poison, 0 kept foreign; 0 keys unresolved',
  ],
  extra: {
    deadLetters: 0,
    alarms: 1,
  },
};
