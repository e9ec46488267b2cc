/**
 * The named faults of `dualread rehearse --faults <name,...|all> [--fault-rate p]`: each name is a set
 * of fault rules over the rehearsal's tables. None touches the legacy table: legacy is the source of
 * truth the applications keep writing, and every guarantee is stated "while legacy is healthy"
 * (docs/correctness.md, "Faults").
 */
import { FaultConfigError, FaultKind, type FaultRule, FaultRole } from './plan';
import type { FaultTables } from './middleware';
import type { KillTrigger } from './processes';

/** Settings of the catalog. */
export interface FaultCatalogSettings {
  readonly tables: FaultTables;
  /** Probability of the probabilistic faults. @default 0.02 */
  readonly rate: number;
  /** Length of an outage window (new table, control table). @default 6000 */
  readonly outageMs: number;
  /** Added latency of `slow-new`. @default 1500 */
  readonly latencyMs: number;
  /** Skew of the read API's clock under `clock-skew` (signed). @default half the margin */
  readonly clockSkewMs?: number;
  /** The migration's clock-skew margin (`read.clockSkewMs`), for the description. */
  readonly clockSkewMarginMs?: number;
  /** `stream-trim`: the simulated stream retention; the consumer pauses twice as long. @default 4000 */
  readonly streamRetentionMs?: number;
}

/** One named fault. */
export interface NamedFault {
  readonly name: string;
  readonly description: string;
  readonly rules: readonly FaultRule[];
  /**
   * When the rehearsal opens the fault: `always` from the start of live traffic (after the seed), or
   * `dual-read` for `outageMs` from the first entry into DUAL_READ (when reads are served by new, so
   * an outage exercises the breaker and the fallback to legacy).
   */
  readonly opens: 'always' | 'dual-read';
  /** A process fault (local/faults/processes.ts): the process killed and restarted, and when. */
  readonly kill?: { readonly process: KilledProcess; readonly trigger: KillTrigger };
  /**
   * A fault of the data or the clock rather than of a call: `poison` (local/faults/poison.ts) writes
   * legacy items the mapping refuses; `clock-skew` shifts the read API's clock (local/faults/skew.ts);
   * `stream-trim` pauses the stream's consumer past the retention (local/faults/trim.ts), in SHADOW
   * before the first verification, and the rehearsal runs the recovery.
   */
  readonly workload?: 'poison' | 'clock-skew' | 'stream-trim';
}

/** The processes `kill-*` faults kill. */
export type KilledProcess = 'sync' | 'tracker' | 'backfill' | 'verify';

/** Roles the catalog's faults hit: everything but legacy. */
const NOT_LEGACY = [FaultRole.new, FaultRole.control, FaultRole.streams];
const READS = ['GetItem', 'BatchGetItem', 'Query'];

/** Defaults of the catalog settings other than the tables. */
export const FAULT_DEFAULTS = {
  rate: 0.02,
  outageMs: 6_000,
  latencyMs: 1_500,
  streamRetentionMs: 4_000,
} as const;

/** Every named fault, in the order the report lists them. */
export function faultCatalog(s: FaultCatalogSettings): readonly NamedFault[] {
  const p = s.rate;
  const rule = (name: string, kind: FaultKind, extra: Partial<FaultRule> = {}): FaultRule => ({
    name,
    kind,
    probability: p,
    ...extra,
  });
  /** A fault of calls: one probabilistic rule under the fault's own name, open from the start. */
  const callFault = (
    name: string,
    description: string,
    kind: FaultKind,
    extra: Partial<FaultRule>,
  ): NamedFault => ({ name, description, rules: [rule(name, kind, extra)], opens: 'always' });
  return [
    callFault(
      'new-throttle',
      'ProvisionedThroughputExceededException on the new table (sync, backfill, repair, reads)',
      FaultKind.provisionedThroughputExceeded,
      { roles: [FaultRole.new] },
    ),
    callFault(
      'control-throttle',
      'ThrottlingException on the control table (state, frontier, checkpoints)',
      FaultKind.throttling,
      { roles: [FaultRole.control] },
    ),
    callFault(
      'streams-throttle',
      'ThrottlingException on the DynamoDB Streams API (CDC and the frontier tracker)',
      FaultKind.throttling,
      { roles: [FaultRole.streams] },
    ),
    callFault(
      'server-errors',
      'HTTP 500 InternalServerError on new, control and streams calls',
      FaultKind.internalError,
      { roles: NOT_LEGACY },
    ),
    callFault('unavailable', 'HTTP 503 on new, control and streams calls', FaultKind.unavailable, {
      roles: NOT_LEGACY,
    }),
    callFault(
      'timeouts',
      'request timeouts (TimeoutError) on new, control and streams calls',
      FaultKind.timeout,
      { roles: NOT_LEGACY },
    ),
    callFault(
      'connection-resets',
      'ECONNRESET socket errors on new, control and streams calls',
      FaultKind.connectionReset,
      { roles: NOT_LEGACY },
    ),
    callFault(
      'slow-new',
      `reads of the new table ${s.latencyMs} ms slow (past the read API's new-store timeout)`,
      FaultKind.latency,
      { roles: [FaultRole.new], operations: READS, latencyMs: s.latencyMs },
    ),
    {
      name: 'new-outage',
      description: `every call to the new table fails with 503 for ${s.outageMs} ms from the first DUAL_READ`,
      rules: [{ name: 'new-outage', kind: FaultKind.unavailable, roles: [FaultRole.new], manual: true }],
      opens: 'dual-read',
    },
    {
      name: 'control-outage',
      description: `every call to the control table fails with 503 for ${s.outageMs} ms from the first DUAL_READ`,
      rules: [
        { name: 'control-outage', kind: FaultKind.unavailable, roles: [FaultRole.control], manual: true },
      ],
      opens: 'dual-read',
    },
    {
      name: 'kill-sync',
      description:
        'the sync Lambda killed mid-batch (at a seeded write to new, 120-240 into its life, up to 4 times): the event source retries the batch on a fresh instance',
      rules: [],
      opens: 'always',
      kill: { process: 'sync', trigger: { roles: ['new'], afterCalls: [120, 240], maxKills: 4 } },
    },
    {
      name: 'kill-tracker',
      description:
        'the frontier tracker killed mid-step (at a seeded call, up to 4 times): restarted from its persisted shards and F',
      rules: [],
      opens: 'always',
      kill: { process: 'tracker', trigger: { afterCalls: [15, 60], maxKills: 4 } },
    },
    {
      name: 'kill-backfill',
      description:
        'the backfill worker killed mid-page (a page half written): the run restarted, resumed from its checkpoints',
      rules: [],
      opens: 'always',
      // Counted in batched inserts (4 a page of 100 at the defaults): the 20th-28th is a later page's,
      // so some segment has a checkpoint to resume from. Counting every call to new killed it inside the
      // first pages once their inserts were counted too (their conflicts' reads and puts come first).
      kill: {
        process: 'backfill',
        trigger: { roles: ['new'], operations: ['BatchExecuteStatement'], afterCalls: [20, 28], maxKills: 1 },
      },
    },
    {
      name: 'kill-verify',
      description:
        'the verification worker killed mid-scan: the run restarted with the same run id, resumed from its checkpoints',
      rules: [],
      opens: 'always',
      kill: {
        process: 'verify',
        trigger: { roles: ['legacy', 'new'], operations: ['Scan'], afterCalls: [6, 10], maxKills: 1 },
      },
    },
    {
      name: 'poison',
      description:
        'legacy items mapItem refuses: one present at seed time (the backfill registers it as poison), 3 written live (CDC dead-letters them); the application then removes them from legacy',
      rules: [],
      opens: 'always',
      workload: 'poison',
    },
    {
      name: 'clock-skew',
      description: `the read API's clock shifted by ${s.clockSkewMs ?? 'half the clock-skew margin in'} ms (--clock-skew; beyond the margin${s.clockSkewMarginMs === undefined ? '' : ` of ${s.clockSkewMarginMs} ms`} the bounded guarantee is void and the report says so)`,
      rules: [],
      opens: 'always',
      workload: 'clock-skew',
    },
    {
      name: 'stream-trim',
      description: `the stream consumer (CDC and the frontier tracker) paused ${2 * (s.streamRetentionMs ?? FAULT_DEFAULTS.streamRetentionMs)} ms in SHADOW, past a ${s.streamRetentionMs ?? FAULT_DEFAULTS.streamRetentionMs} ms retention (--stream-retention): records trimmed unread; the tracker opens a stream gap (F frozen, no advance) and the rehearsal recovers (verify with repair until clean, then the gap closes)`,
      rules: [],
      opens: 'always',
      workload: 'stream-trim',
    },
  ];
}

/** The faults `names` picks (`all` = every one), or a `FaultConfigError` naming the unknown ones. */
export function pickFaults(catalog: readonly NamedFault[], names: readonly string[]): NamedFault[] {
  if (names.includes('all')) return [...catalog];
  const known = new Map(catalog.map((f) => [f.name, f]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length)
    throw new FaultConfigError(
      `unknown fault${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
        `use "all" or some of ${catalog.map((f) => f.name).join(', ')}`,
    );
  if (!names.length)
    throw new FaultConfigError(
      `--faults needs a name; use "all" or some of ${catalog.map((f) => f.name).join(', ')}`,
    );
  return [...new Set(names)].map((n) => known.get(n) as NamedFault);
}

/** The names `--faults` accepts (besides `all`). */
export const FAULT_NAMES: readonly string[] = faultCatalog({
  tables: { legacy: '', new: '', control: '' },
  ...FAULT_DEFAULTS,
}).map((f) => f.name);
