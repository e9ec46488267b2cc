/**
 * A small recorded rehearsal report (a real run of 1,000 items, its time series thinned), for the tests
 * of the summary and the HTML report.
 */
import type { RehearsalReport } from '../../../local/rehearsal/recorder';

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
  checks: [
    {
      name: 'convergence',
      description:
        'after the drain every new item equals mapItem(legacy item), every deleted key is absent or a tombstone, and nothing in new lacks a legacy origin',
      passed: true,
      checked: 838,
      failures: 0,
      examples: [],
    },
    {
      name: 'no-lost-or-resurrected',
      description:
        'every key ends as the history says: present in legacy and new with its last acknowledged value, or absent from both',
      passed: true,
      checked: 1000,
      failures: 0,
      examples: [],
    },
    {
      name: 'every-read-answered',
      description: 'every API read got an answer below 500 (no 5xx, no dropped connection)',
      passed: true,
      checked: 1436,
      failures: 0,
      examples: [],
    },
    {
      name: 'bounded-within-budget',
      description:
        'every bounded read served by new carried a staleness bound within the 5000 ms budget and returned a state legacy held within it; served by legacy, a state legacy held during the read',
      passed: true,
      checked: 831,
      failures: 0,
      examples: [],
    },
    {
      name: 'strong-equals-legacy',
      description: 'every strong read returned a state legacy held during the read',
      passed: true,
      checked: 161,
      failures: 0,
      examples: [],
    },
    {
      name: 'shadow-serves-legacy',
      description: 'every shadow read returned a state legacy held during the read',
      passed: true,
      checked: 142,
      failures: 0,
      examples: [],
    },
    {
      name: 'read-after-honored',
      description: 'every read with X-Read-After returned a state legacy held at or after that time',
      passed: true,
      checked: 302,
      failures: 0,
      examples: [],
    },
    {
      name: 'frontier-never-ahead',
      description:
        'no published F covered a legacy write whose stream record had not reached the sync handler yet',
      passed: true,
      checked: 2196,
      failures: 0,
      examples: [],
    },
  ],
  timeline: [
    {
      t: 21745,
      kind: 'mark',
      action: 'seeded',
      detail: '1000 legacy items in 17215 ms',
    },
    {
      t: 24980,
      kind: 'phase',
      phase: 'LEGACY_ONLY',
      action: 'init',
      detail: 'migration created',
    },
    {
      t: 30512,
      kind: 'phase',
      phase: 'BACKFILLING',
      action: 'advance',
      detail:
        'cdc-consuming: met (local stream poller consuming arn:aws:dynamodb:ddblocal:000000000000:table/users/stream/2026-12-04T17:42:39.150 from TRIM_HORIZON since 1796406159786)',
      guardrails: [
        {
          name: 'cdc-consuming',
          met: true,
          detail:
            'local stream poller consuming arn:aws:dynamodb:ddblocal:000000000000:table/users/stream/2026-12-04T17:42:39.150 from TRIM_HORIZON since 1796406159786',
        },
      ],
    },
    {
      t: 30513,
      kind: 'mark',
      action: 'backfill-start',
      detail: 'backfill state machine started',
    },
    {
      t: 34927,
      kind: 'refused',
      phase: 'SHADOW',
      action: 'refused',
      detail: 'backfill-complete: UNMET (backfill is NOT_STARTED)',
      guardrails: [
        {
          name: 'backfill-complete',
          met: false,
          detail: 'backfill is NOT_STARTED',
        },
      ],
    },
    {
      t: 73018,
      kind: 'mark',
      action: 'backfill-end',
      detail: 'backfill state machine finished',
    },
    {
      t: 73373,
      kind: 'phase',
      phase: 'SHADOW',
      action: 'advance',
      detail: 'backfill-complete: met (backfill is COMPLETE)',
      guardrails: [
        {
          name: 'backfill-complete',
          met: true,
          detail: 'backfill is COMPLETE',
        },
      ],
    },
    {
      t: 75466,
      kind: 'mark',
      action: 'backfill-end',
      detail: 'backfill state machine finished',
    },
    {
      t: 88138,
      kind: 'mark',
      action: 'writes-resumed',
      detail: 'legacy writes resumed',
    },
    {
      t: 88496,
      kind: 'phase',
      phase: 'DUAL_READ',
      action: 'advance',
      detail: 'last-verification-clean: met (1 of the last 1 verification(s) clean (rehearsal-1); 1 needed)',
      guardrails: [
        {
          name: 'last-verification-clean',
          met: true,
          detail: '1 of the last 1 verification(s) clean (rehearsal-1); 1 needed',
        },
      ],
    },
    {
      t: 90602,
      kind: 'mark',
      action: 'cdc-stall',
      detail: 'CDC poller stopped',
    },
    {
      t: 97030,
      kind: 'phase',
      phase: 'SHADOW',
      action: 'rollback',
      detail: 'alarm FrontierLagHigh (frontier lag over 5000 ms for 3 datapoints)',
    },
    {
      t: 97238,
      kind: 'mark',
      action: 'cdc-resume',
      detail: 'CDC poller started again',
    },
    {
      t: 120065,
      kind: 'phase',
      phase: 'DUAL_READ',
      action: 'advance',
      detail: 'last-verification-clean: met (1 of the last 1 verification(s) clean (rehearsal-1); 1 needed)',
      guardrails: [
        {
          name: 'last-verification-clean',
          met: true,
          detail: '1 of the last 1 verification(s) clean (rehearsal-1); 1 needed',
        },
      ],
    },
    {
      t: 122278,
      kind: 'phase',
      phase: 'NEW_PRIMARY',
      action: 'advance',
      detail: 'rollout-100: met (rollout 100 %); frontier-lag: met (frontier lag 4661 ms, budget 5000 ms)',
      guardrails: [
        {
          name: 'rollout-100',
          met: true,
          detail: 'rollout 100 %',
        },
        {
          name: 'frontier-lag',
          met: true,
          detail: 'frontier lag 4661 ms, budget 5000 ms',
        },
      ],
    },
    {
      t: 124341,
      kind: 'mark',
      action: 'fence',
      detail: 'legacy writes fenced at 2026-12-04T17:44:21.022Z',
    },
    {
      t: 130037,
      kind: 'phase',
      phase: 'FINALIZED',
      action: 'advance',
      detail:
        'clean-verifications: met (2 of the last 2 verification(s) clean (rehearsal-2, rehearsal-1); 2 needed); approval: met (approved by rehearsal); frontier-past-fence: met (F \u2212 skew = 1796406263951, fence T = 1796406261022)',
      guardrails: [
        {
          name: 'clean-verifications',
          met: true,
          detail: '2 of the last 2 verification(s) clean (rehearsal-2, rehearsal-1); 2 needed',
        },
        {
          name: 'approval',
          met: true,
          detail: 'approved by rehearsal',
        },
        {
          name: 'frontier-past-fence',
          met: true,
          detail: 'F \u2212 skew = 1796406263951, fence T = 1796406261022',
        },
      ],
    },
  ],
  backfill: {
    segments: {
      '0': [
        {
          t: 42066,
          v: 0,
        },
        {
          t: 66085,
          v: 100,
        },
        {
          t: 85610,
          v: 240,
        },
        {
          t: 97836,
          v: 240,
        },
        {
          t: 111723,
          v: 240,
        },
        {
          t: 121715,
          v: 240,
        },
      ],
      '1': [
        {
          t: 42066,
          v: 0,
        },
        {
          t: 66085,
          v: 100,
        },
        {
          t: 85610,
          v: 247,
        },
        {
          t: 97836,
          v: 247,
        },
        {
          t: 111723,
          v: 247,
        },
        {
          t: 121715,
          v: 247,
        },
      ],
      '2': [
        {
          t: 42066,
          v: 0,
        },
        {
          t: 66085,
          v: 100,
        },
        {
          t: 85610,
          v: 246,
        },
        {
          t: 97836,
          v: 246,
        },
        {
          t: 111723,
          v: 246,
        },
        {
          t: 121715,
          v: 246,
        },
      ],
      '3': [
        {
          t: 42066,
          v: 0,
        },
        {
          t: 66085,
          v: 100,
        },
        {
          t: 85610,
          v: 232,
        },
        {
          t: 97836,
          v: 232,
        },
        {
          t: 111723,
          v: 232,
        },
        {
          t: 121715,
          v: 232,
        },
      ],
    },
    throughput: [
      {
        t: 44646,
        v: 0,
      },
      {
        t: 57351,
        v: 0,
      },
      {
        t: 66652,
        v: 0,
      },
      {
        t: 74690,
        v: 0,
      },
      {
        t: 86780,
        v: 0,
      },
      {
        t: 92938,
        v: 0,
      },
      {
        t: 97836,
        v: 0,
      },
      {
        t: 105569,
        v: 0,
      },
      {
        t: 111723,
        v: 0,
      },
      {
        t: 117087,
        v: 0,
      },
      {
        t: 121715,
        v: 0,
      },
      {
        t: 126109,
        v: 0,
      },
    ],
    scanned: 965,
    copied: 832,
  },
  cdcLagMs: [
    {
      t: 36349,
      v: 46707,
    },
    {
      t: 66928,
      v: 22438,
    },
    {
      t: 79410,
      v: 31636,
    },
    {
      t: 103496,
      v: 57927,
    },
    {
      t: 113035,
      v: 7878,
    },
    {
      t: 116545,
      v: 13129,
    },
    {
      t: 118568,
      v: 14918,
    },
    {
      t: 120324,
      v: 16886,
    },
    {
      t: 121041,
      v: 17647,
    },
    {
      t: 121830,
      v: 18425,
    },
    {
      t: 122392,
      v: 19010,
    },
    {
      t: 123049,
      v: 19665,
    },
  ],
  frontierLagMs: [
    {
      t: 50972,
      v: 68653,
    },
    {
      t: 80640,
      v: 9682,
    },
    {
      t: 88356,
      v: 1573,
    },
    {
      t: 96131,
      v: 9185,
    },
    {
      t: 107048,
      v: 20102,
    },
    {
      t: 115938,
      v: 13619,
    },
    {
      t: 120627,
      v: 3073,
    },
    {
      t: 124681,
      v: 7127,
    },
    {
      t: 125862,
      v: 1186,
    },
    {
      t: 129001,
      v: 1477,
    },
    {
      t: 130536,
      v: 1046,
    },
    {
      t: 131720,
      v: 1345,
    },
  ],
  lateRecords: 0,
  reads: {
    total: 1436,
    latency: [
      {
        store: 'legacy',
        mode: 'bounded',
        count: 592,
        p50Ms: 149.8,
        p99Ms: 4884.2,
      },
      {
        store: 'legacy',
        mode: 'read-after',
        count: 236,
        p50Ms: 142.1,
        p99Ms: 1838.1,
      },
      {
        store: 'legacy',
        mode: 'shadow',
        count: 132,
        p50Ms: 111.4,
        p99Ms: 4213.4,
      },
      {
        store: 'legacy',
        mode: 'strong',
        count: 59,
        p50Ms: 297.6,
        p99Ms: 3526.9,
      },
      {
        store: 'new',
        mode: 'bounded',
        count: 239,
        p50Ms: 16.9,
        p99Ms: 1701.5,
      },
      {
        store: 'new',
        mode: 'read-after',
        count: 66,
        p50Ms: 12.3,
        p99Ms: 671.5,
      },
      {
        store: 'new',
        mode: 'shadow',
        count: 10,
        p50Ms: 15.4,
        p99Ms: 26.8,
      },
      {
        store: 'new',
        mode: 'strong',
        count: 102,
        p50Ms: 37.6,
        p99Ms: 598.8,
      },
    ],
    byPhase: {
      LEGACY_ONLY: {
        legacy: 7,
      },
      BACKFILLING: {
        legacy: 125,
      },
      SHADOW: {
        legacy: 431,
      },
      DUAL_READ: {
        legacy: 242,
        new: 41,
      },
      NEW_PRIMARY: {
        legacy: 206,
        new: 138,
      },
      FINALIZED: {
        new: 238,
        legacy: 8,
      },
    },
    statuses: {
      '200': 1206,
      '404': 230,
    },
  },
  shadowComparisons: {
    match: 124,
    'within-lag': 14,
  },
  verifications: [
    {
      runId: 'rehearsal-1',
      status: 'COMPLETE',
      clean: true,
      durationMs: 7812,
      counts: {
        'missing-in-new': 0,
        'not-invertible': 0,
        'extra-in-new': 0,
        'content-differs': 0,
        'origin-unknown': 0,
        match: 922,
        'tombstoned-in-new': 0,
        unmappable: 0,
      },
    },
    {
      runId: 'rehearsal-2',
      status: 'COMPLETE',
      clean: true,
      durationMs: 1567,
      counts: {
        'missing-in-new': 0,
        'not-invertible': 0,
        'extra-in-new': 0,
        'content-differs': 0,
        'origin-unknown': 0,
        match: 838,
        'tombstoned-in-new': 0,
        unmappable: 0,
      },
    },
  ],
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
