/**
 * The fault plan: which fault fires for which call. Pure (no SDK, no timers): the middleware
 * (`middleware.ts`) asks `decide` once per attempt the SDK sends, and does what the answer says.
 *
 * A rule matches calls by client role (legacy, new, control, streams), operation and table, and fires
 * with a probability (from a PRNG seeded by the plan's seed and the rule's position, so the same seed
 * and the same sequence of calls give the same faults), inside time windows measured from when the plan
 * was armed, and/or only after the first N matching calls. Every injection is counted by the rule's name.
 */
import { DualReadError } from '../../core/common';
import { seededRandom } from '../seeded-random';

/** A fault specification that cannot be used; the message says which rule and what to fix. */
export class FaultConfigError extends DualReadError {}

/** Which client a call comes from: the table it touches decides for DynamoDB; the streams client is `streams`. */
export const FaultRole = {
  legacy: 'legacy',
  new: 'new',
  control: 'control',
  streams: 'streams',
  other: 'other',
} as const;
export type FaultRole = (typeof FaultRole)[keyof typeof FaultRole];

/**
 * What reaches the SDK in place of DynamoDB's answer. Each kind is built the way the real one arrives
 * (middleware.ts): the throttles and 5xx as HTTP responses the SDK's own deserializer turns into its
 * service errors; a timeout and a connection reset as the errors its Node HTTP handler throws; latency
 * as a delay before the real call.
 */
export const FaultKind = {
  /** HTTP 400 `ProvisionedThroughputExceededException` (retried by the SDK as throttling). */
  provisionedThroughputExceeded: 'provisioned-throughput-exceeded',
  /** HTTP 400 `ThrottlingException` (retried by the SDK as throttling). */
  throttling: 'throttling',
  /** HTTP 500 `InternalServerError` (retried as transient). */
  internalError: 'internal-error',
  /** HTTP 503 `ServiceUnavailable` (retried as transient). */
  unavailable: 'unavailable',
  /** The request times out: an error named `TimeoutError` (retried as transient). */
  timeout: 'timeout',
  /** The socket is reset: `ECONNRESET`, renamed `TimeoutError` as the Node handler does (retried). */
  connectionReset: 'connection-reset',
  /** The real call, `latencyMs` late. */
  latency: 'latency',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** A time window, in ms since the plan was armed; `endMs` open means "until disarmed". */
export interface FaultWindow {
  readonly startMs: number;
  readonly endMs?: number;
}

/** One rule of a plan. Empty or absent filters match everything. */
export interface FaultRule {
  /** The fault's name, under which its injections are counted (unique in a plan). */
  readonly name: string;
  readonly kind: FaultKind;
  readonly roles?: readonly FaultRole[];
  /** Operation names without `Command` (`GetItem`, `GetRecords`, ...). */
  readonly operations?: readonly string[];
  readonly tables?: readonly string[];
  /** Chance that a matching call is hit. @default 1 */
  readonly probability?: number;
  /** Only inside these windows. @default always (while armed) */
  readonly windows?: readonly FaultWindow[];
  /** Only after this many matching calls went through untouched. @default 0 */
  readonly afterCalls?: number;
  /** At most this many injections. @default unlimited */
  readonly maxInjections?: number;
  /** Delay of a `latency` fault. @default 200 */
  readonly latencyMs?: number;
  /** Fires only inside windows a harness opens with `FaultPlan.open` (an outage started by an event). */
  readonly manual?: boolean;
}

/** One call, as the middleware describes it. */
export interface FaultCall {
  readonly role: FaultRole;
  readonly operation: string;
  /** Tables the call touches (one for most operations; several for batch and transaction calls). */
  readonly tables: readonly string[];
}

/** The plan's answer for a call. */
export interface FaultDecision {
  readonly fault: string;
  readonly kind: FaultKind;
  readonly latencyMs: number;
}

/** One entry of the plan's log (the sequence a seed reproduces). */
export interface FaultEvent extends FaultDecision {
  readonly atMs: number;
  readonly role: FaultRole;
  readonly operation: string;
  readonly tables: readonly string[];
}

const KINDS = new Set<string>(Object.values(FaultKind));
const ROLES = new Set<string>(Object.values(FaultRole));

function validate(rules: readonly FaultRule[]): void {
  const names = new Set<string>();
  for (const r of rules) {
    const where = `fault rule "${r.name}"`;
    if (!r.name) throw new FaultConfigError('a fault rule has no name; give each rule a unique name');
    if (names.has(r.name)) throw new FaultConfigError(`${where} appears twice; fault names must be unique`);
    names.add(r.name);
    if (!KINDS.has(r.kind))
      throw new FaultConfigError(
        `${where}: kind "${r.kind}" is unknown; use one of ${[...KINDS].join(', ')}`,
      );
    for (const role of r.roles ?? [])
      if (!ROLES.has(role))
        throw new FaultConfigError(
          `${where}: role "${role}" is unknown; use one of ${[...ROLES].join(', ')}`,
        );
    const p = r.probability ?? 1;
    if (!(p >= 0 && p <= 1))
      throw new FaultConfigError(`${where}: probability must be from 0 to 1; got ${String(r.probability)}`);
    for (const w of r.windows ?? [])
      if (!(w.startMs >= 0) || (w.endMs !== undefined && !(w.endMs > w.startMs)))
        throw new FaultConfigError(
          `${where}: window ${JSON.stringify(w)} must start at 0 ms or later and end after it starts`,
        );
    for (const [field, v] of [
      ['afterCalls', r.afterCalls],
      ['maxInjections', r.maxInjections],
      ['latencyMs', r.latencyMs],
    ] as const)
      if (v !== undefined && !(Number.isInteger(v) && v >= 0))
        throw new FaultConfigError(`${where}: ${field} must be a whole number ≥ 0; got ${String(v)}`);
  }
}

interface RuleState {
  readonly rule: FaultRule;
  readonly random: () => number;
  matched: number;
  injected: number;
  /** Windows opened by `open` (manual rules). */
  readonly opened: FaultWindow[];
}

/**
 * A fault plan. Disarmed until `arm()` (so a harness can create its tables and seed data untouched, and
 * `disarm()` before it scans the stores for its checks); windows are measured from the arming.
 */
export class FaultPlan {
  private readonly states: RuleState[];
  private armedAt: number | undefined;
  private readonly log: FaultEvent[] = [];

  constructor(
    readonly rules: readonly FaultRule[],
    readonly seed: number,
    private readonly clock: () => number,
  ) {
    validate(rules);
    // One PRNG per rule: a rule's draws do not depend on which other rules matched the same call.
    this.states = rules.map((rule, i) => ({
      rule,
      random: seededRandom((seed * 7919 + i * 104_729) >>> 0),
      matched: 0,
      injected: 0,
      opened: [],
    }));
  }

  arm(): void {
    this.armedAt = this.clock();
  }

  disarm(): void {
    this.armedAt = undefined;
  }

  /** Opens a window of `durationMs` from now for the rule `name` (a manual rule's only windows). */
  open(name: string, durationMs: number): void {
    const s = this.states.find((x) => x.rule.name === name);
    if (!s)
      throw new FaultConfigError(
        `no fault rule "${name}" to open; the plan has ${this.rules.map((r) => r.name).join(', ')}`,
      );
    if (this.armedAt === undefined)
      throw new FaultConfigError(`fault "${name}" opened before the plan was armed`);
    const start = this.clock() - this.armedAt;
    s.opened.push({ startMs: start, endMs: start + durationMs });
  }

  /** Milliseconds since the plan was armed (0 when disarmed). */
  elapsed(): number {
    return this.armedAt === undefined ? 0 : this.clock() - this.armedAt;
  }

  get armed(): boolean {
    return this.armedAt !== undefined;
  }

  /** The fault for this call, or undefined (the call goes through). The first matching rule that fires wins. */
  decide(call: FaultCall): FaultDecision | undefined {
    if (this.armedAt === undefined) return undefined;
    const now = this.clock();
    const elapsed = now - this.armedAt;
    for (const s of this.states) {
      const r = s.rule;
      if (r.roles?.length && !r.roles.includes(call.role)) continue;
      if (r.operations?.length && !r.operations.includes(call.operation)) continue;
      if (r.tables?.length && !call.tables.some((t) => r.tables?.includes(t))) continue;
      const inside = (w: FaultWindow) => elapsed >= w.startMs && (w.endMs ?? Infinity) > elapsed;
      if (r.manual && !s.opened.some(inside)) continue;
      if (r.windows?.length && !r.windows.some(inside)) continue;
      s.matched++;
      if (s.matched <= (r.afterCalls ?? 0)) continue;
      if (r.maxInjections !== undefined && s.injected >= r.maxInjections) continue;
      // Draw for every eligible call (hit or not), so the sequence depends only on the seed and the calls.
      if (s.random() >= (r.probability ?? 1)) continue;
      s.injected++;
      const decision = { fault: r.name, kind: r.kind, latencyMs: r.latencyMs ?? 200 };
      this.log.push({
        ...decision,
        atMs: elapsed,
        role: call.role,
        operation: call.operation,
        tables: call.tables,
      });
      return decision;
    }
    return undefined;
  }

  /** Injections so far, by fault name (every rule listed, 0 when it never fired). */
  counts(): Record<string, number> {
    return Object.fromEntries(this.states.map((s) => [s.rule.name, s.injected]));
  }

  /** Every injection in order. */
  events(): readonly FaultEvent[] {
    return this.log;
  }
}
