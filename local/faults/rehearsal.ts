/**
 * Faults in a rehearsal (`dualread rehearse --faults`): the plan of the picked named faults, the
 * instrumented endpoint the system under test is built on (CDC, frontier tracker, backfill,
 * verification, read API — not the harness's own client, which plays the applications and the
 * operator), the observation of how the system answered, and the fault table of the report.
 *
 * The walk's hooks (local/rehearsal/rehearse.ts) are few: build on `endpoint()`, `arm()` once the seed
 * is in, `watch()` the phase, wrap the read telemetry, `settle()` before the final scan.
 *
 * Size (over 400 lines, on purpose): one class, the fault layer's whole life in a rehearsal (plan,
 * instrumented endpoint, observation, fault table), because its hooks share one record of what was
 * injected and how the system answered; the parts that stand alone (the plan, the middleware, the
 * process kills, the trim, the report rows) are their own modules in this folder.
 */
import type { DynamoEndpoint } from '../../adapters/dynamodb';
import type { Phase } from '../../core/control';
import type { ReadTelemetry } from '../../lambdas/read/telemetry';
import type { LocalDeadLetter } from '../dead-letter-queue';
import { FAULT_DEFAULTS, type NamedFault, faultCatalog, pickFaults } from './catalog';
import { FaultLayer, type FaultTables, type RoleCounts } from './middleware';
import { FaultConfigError, FaultPlan } from './plan';
import { type KillEvent, KillableProcess, ProcessKilledError } from './processes';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ControlStore } from '../../adapters/control-store';
import { makeDynamoClient } from '../../adapters/dynamodb';
import type { SegmentCheckpoint } from '../../core';
import { type VerifyCheckpoint, VerifyKey } from '../../core/verify';
import { type LocalChain, LocalExecutionFailedError } from '../state-machine-runner';
import { CDC_CONSUMER_SK } from '../stream-poller';
import { type CdcConsumerDoc, processingProblem } from '../../core/cdc';
import { type KillResume, positionOf, restartingRun } from './runs';
import { type SkewVerdict, defaultSkewMs, skewVerdict, skewVoided } from './skew';
import { type PoisonOutcome, type PoisonRead, PoisonLedger, poisonItems } from './poison';
import {
  type PoisonHooks,
  awaitDeadLettered,
  notePoison,
  pinPoison,
  probePinned,
  unpinPoison,
} from './poison-operator';
import { checkPinnedReads } from '../rehearsal/pinned-reads';
import type { CheckResult, ReadRecord } from '../rehearsal/checker';
import type { Item, Migration } from '../../core/model';
import { makeStreamsClient } from '../../adapters/stream-shards';
import { StreamTrim } from './trim';
import {
  type StreamGapOutcome,
  type TrimHooks,
  injectAndRecover,
  streamGapCheck,
  trimmedUndelivered,
} from './trim-operator';

/** What `--faults` and `--fault-rate` ask for. */
export interface FaultSettings {
  readonly names: readonly string[];
  /** @default FAULT_DEFAULTS.rate */
  readonly rate?: number;
  /** @default FAULT_DEFAULTS.outageMs */
  readonly outageMs?: number;
  /** @default FAULT_DEFAULTS.latencyMs */
  readonly latencyMs?: number;
  /** `--clock-skew`: the read API's clock skew under `clock-skew`, signed ms. @default half the margin */
  readonly clockSkewMs?: number;
  /** `--stream-retention`: the retention `stream-trim` simulates, ms. @default FAULT_DEFAULTS.streamRetentionMs */
  readonly streamRetentionMs?: number;
}

/** One row of the fault table. */
export interface FaultRow {
  readonly name: string;
  readonly description: string;
  readonly injected: number;
}

/** How the system answered the faults of the run. */
export interface FaultAnswers {
  /** SDK retries over all clients of the system under test. */
  readonly sdkRetries: number;
  /** Requests, attempts and errors that reached the caller after the SDK's retries, by client role. */
  readonly byRole: Record<string, RoleCounts>;
  /** Dead-letter entries (before the replay), by reason. */
  readonly deadLetters: number;
  readonly deadLetterReasons: Record<string, number>;
  /** Entries replayed (while faults ran and at the end), those still dead-lettered, replays that failed. */
  readonly replayed: number;
  readonly stillDeadLettered: number;
  readonly replayFailures: number;
  readonly breakerOpenings: number;
  /** Reads whose first choice was new and legacy answered (failure, absence, hedge). */
  readonly fallbacksToLegacy: number;
  /** Reads routed to legacy because the breaker was open. */
  readonly routedAroundNew: number;
  /** Store failures the read API saw, by store. */
  readonly readStoreFailures: Record<string, number>;
  /** Reads the API answered with a 5xx. */
  readonly readErrors: number;
  /** The first of them (up to 5): what was read, how it was routed, and the last store failure before it. */
  readonly readErrorSamples: readonly ReadErrorSample[];
  /** Errors the frontier tracker and the CDC poller reported (they retry). */
  readonly trackerErrors: number;
  readonly pollerErrors: number;
  /** Processes killed and restarted (`kill-*`), with each kill. */
  readonly processes: ReadonlyArray<{
    readonly process: string;
    readonly kills: number;
    readonly restarts: number;
    readonly events: readonly KillEvent[];
  }>;
  /** Runs (backfill, verification) restarted after a kill: the checkpoints at the kill and where it resumed. */
  readonly resumes: readonly KillResume[];
  /** `poison`: each item the mapping refuses, how CDC / the backfill met it, how its reads were served. */
  readonly poison?: readonly PoisonOutcome[];
  /** `clock-skew`: the read API's clock skew, the margin, and whether the skew is within it. */
  readonly clockSkew?: { readonly skewMs: number; readonly marginMs: number; readonly withinMargin: boolean };
  /** `stream-trim`: the pause and trim, the gap the tracker opened, the refused advance, the recovery. */
  readonly streamGap?: StreamGapOutcome;
  /** Outage windows opened, with when (ms since arming). */
  readonly windows: ReadonlyArray<{
    readonly fault: string;
    readonly openedAtMs: number;
    readonly forMs: number;
  }>;
}

/** One read the API answered with a 5xx, as the fault table shows it. */
export interface ReadErrorSample {
  readonly atMs: number;
  readonly op: string;
  readonly mode: string;
  readonly route: string;
  readonly reason: string;
  readonly status: number;
  readonly surface?: string;
  /** The read API's last store failure before this read: which store, and its message. */
  readonly lastStoreFailure?: string;
}

/** The fault table of a rehearsal report. */
export interface FaultReport {
  readonly faults: readonly FaultRow[];
  readonly rate: number;
  readonly seed: number;
  readonly answers: FaultAnswers;
  /** The invariant verdicts of the run under these faults. */
  readonly verdicts: Record<string, boolean>;
  /** Guarantees the run could not judge, and why (said, not passed silently). */
  readonly voided: readonly string[];
}

/** The slice of the local CDC the fault run operates: its dead-letter queue, replay and poller counters. */
export interface OperatedCdc {
  readonly deadLetters: { readonly entries: readonly LocalDeadLetter[]; discard?(id: number): boolean };
  readonly poller: { readonly stats: { readonly pollerErrors: number } };
  replayDeadLetters(): Promise<{ replayed: number; remaining: number }>;
}

/** How often the rehearsal's operator replays the dead-letter queue while faults run. */
const REPLAY_EVERY_MS = 2_000;

/** Faults of one rehearsal. */
export class RehearsalFaults {
  readonly plan: FaultPlan;
  readonly layer: FaultLayer;
  private readonly picked: NamedFault[];
  private readonly outageMs: number;
  private readonly rate: number;
  private watching = false;
  private watcher: Promise<void> | undefined;
  private readonly opened: Array<{ fault: string; openedAtMs: number; forMs: number }> = [];
  private readonly counters = {
    breakerOpenings: 0,
    fallbacks: 0,
    routedAround: 0,
    readErrors: 0,
    trackerErrors: 0,
  };
  private readonly storeFailures: Record<string, number> = {};
  private readonly readErrorSamples: ReadErrorSample[] = [];
  private lastStoreFailure: string | undefined;
  private readonly dead = new Map<number, LocalDeadLetter>();
  private replayed = 0;
  private remaining = 0;
  private replayFailures = 0;
  private operator: Promise<void> | undefined;
  private pollerErrors = 0;
  /** The processes the picked `kill-*` faults kill, by process name. */
  private readonly killable = new Map<string, KillableProcess>();
  private readonly resumed: KillResume[] = [];
  /** The system under test's endpoint (with the fault layer), once `endpoint()` built it. */
  private base: DynamoEndpoint | undefined;
  /** `poison`: the items and what met them. */
  readonly poison: PoisonLedger | undefined;
  private poisonReads: readonly PoisonRead[] = [];
  /** `clock-skew`: the skew and whether it is within the margin. */
  readonly skew: SkewVerdict | undefined;
  /** `stream-trim`: the consumer's pause and the trim (on every streams client of the layer). */
  readonly trim: StreamTrim | undefined;
  private trimOutcome: StreamGapOutcome | undefined;
  /** `poison`: legacy items written that the mapping refuses. */
  private poisonWritten = 0;
  /** `clock-skew`: readings of the read API's clock that were shifted. */
  private skewedReadings = 0;
  /** The endpoint as given, without the fault layer (the trim's sampling reads through it). */
  private raw: DynamoEndpoint | undefined;

  constructor(
    settings: FaultSettings,
    tables: FaultTables,
    private readonly seed: number,
    clock: () => number = Date.now,
    migration?: Migration,
  ) {
    this.rate = settings.rate ?? FAULT_DEFAULTS.rate;
    this.outageMs = settings.outageMs ?? FAULT_DEFAULTS.outageMs;
    const margin = migration?.read.clockSkewMs;
    const skewMs = settings.clockSkewMs ?? (margin === undefined ? undefined : defaultSkewMs(margin));
    const catalog = faultCatalog({
      tables,
      rate: this.rate,
      outageMs: this.outageMs,
      latencyMs: settings.latencyMs ?? FAULT_DEFAULTS.latencyMs,
      streamRetentionMs: settings.streamRetentionMs ?? FAULT_DEFAULTS.streamRetentionMs,
      ...(skewMs === undefined ? {} : { clockSkewMs: skewMs }),
      ...(margin === undefined ? {} : { clockSkewMarginMs: margin }),
    });
    this.picked = pickFaults(catalog, settings.names);
    if (this.picked.some((f) => f.workload === 'clock-skew')) {
      if (skewMs === undefined || margin === undefined)
        throw new FaultConfigError('the clock-skew fault needs the migration (its read.clockSkewMs margin)');
      this.skew = skewVerdict(skewMs, margin);
    } else {
      if (settings.clockSkewMs !== undefined)
        throw new FaultConfigError('--clock-skew needs the clock-skew fault: add "clock-skew" to --faults');
      this.skew = undefined;
    }
    this.plan = new FaultPlan(
      this.picked.flatMap((f) => f.rules),
      seed,
      clock,
    );
    this.layer = new FaultLayer(this.plan, tables);
    if (this.picked.some((f) => f.workload === 'stream-trim')) {
      const retention = settings.streamRetentionMs ?? FAULT_DEFAULTS.streamRetentionMs;
      this.trim = new StreamTrim(retention, 2 * retention, clock);
      this.layer.streamTrim = this.trim;
    } else {
      if (settings.streamRetentionMs !== undefined)
        throw new FaultConfigError(
          '--stream-retention needs the stream-trim fault: add "stream-trim" to --faults',
        );
      this.trim = undefined;
    }
    if (this.picked.some((f) => f.workload === 'poison')) {
      if (!migration) throw new FaultConfigError('the poison fault needs the migration (its mapItem)');
      this.poison = new PoisonLedger(poisonItems(migration));
    } else this.poison = undefined;
    this.picked.forEach((f, i) => {
      if (f.kill)
        this.killable.set(
          f.kill.process,
          new KillableProcess(f.kill.process, f.kill.trigger, tables, seed * 31 + i, clock),
        );
    });
  }

  /** The process `kill-<name>` kills, if picked (its owner builds each incarnation on it). */
  process(name: 'sync' | 'tracker' | 'backfill' | 'verify'): KillableProcess | undefined {
    return this.killable.get(name);
  }

  /** The endpoint with the fault layer on every client built for it. */
  endpoint(e: DynamoEndpoint): DynamoEndpoint {
    this.raw = e;
    this.base = { ...e, instrument: (client, kind) => this.layer.instrument(client, kind) };
    return this.base;
  }

  /**
   * The frontier tracker as the walk steps it: with `kill-tracker`, each incarnation is built by `build`
   * on its own endpoint; a step during which it died reports nothing (it throws `ProcessKilledError`, as
   * a crashed tracker publishes nothing more) and the next step runs on a new tracker, built from scratch
   * from what the old one persisted.
   */
  restartingTracker<R>(build: (endpoint: DynamoEndpoint) => { step(): Promise<R> }): { step(): Promise<R> } {
    const killer = this.killable.get('tracker');
    const base = this.base;
    if (!killer || !base) return build(base ?? {});
    const make = () => {
      const life = killer.incarnation(base);
      return { life, tracker: build(life.endpoint) };
    };
    let live = make();
    return {
      step: async () => {
        const now = live;
        const out = await now.tracker.step().catch((err: unknown) => ({ err }) as const);
        if (!now.life.dead) {
          if (out && typeof out === 'object' && 'err' in out) throw out.err;
          return out as R;
        }
        if (live === now) {
          live = make();
          killer.restarted();
        }
        throw new ProcessKilledError('tracker', now.life.number);
      },
    };
  }

  /**
   * The backfill restarted after a kill refused to start because CDC is failing: the poller's last
   * delivery was the killed sync's batch (`kill-sync`), retried on a fresh handler. Waits, as the runbook
   * says an operator does, until the poller's last delivery succeeded (at most 2 min), and says so.
   */
  private async waitForCdc(err: unknown, o: { store: ControlStore; log?: (line: string) => void }) {
    if (!(err instanceof LocalExecutionFailedError) || err.error !== 'CdcNotConsumingError') return false;
    o.log?.(
      `backfill refused to start (${err.cause}); waiting for CDC to deliver again, then starting it again`,
    );
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const doc = await o.store.get<CdcConsumerDoc>(CDC_CONSUMER_SK).catch(() => undefined);
      if (doc && processingProblem('the stream poller', doc.lastProcessingResult) === undefined) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  }

  /**
   * A backfill (`kind` backfill) or verification (`runId`) run whose worker \`kill-<kind>\` kills: restarted
   * with the same run id after each kill, its resume judged from the checkpoints (local/faults/runs.ts).
   * `start` builds the run's handlers over the client it is given.
   */
  restartingRun(
    kind: 'backfill' | 'verify',
    o: { store: ControlStore; runId: string; legacyTable: string; log?: (line: string) => void },
    start: (client: DynamoDBClient, attempt: number) => LocalChain,
  ): Pick<LocalChain, 'result' | 'settled'> | undefined {
    const killer = this.killable.get(kind);
    const base = this.base;
    if (!killer || !base) return undefined;
    const positions = async () =>
      kind === 'backfill'
        ? (await o.store.list<SegmentCheckpoint>('SEGMENT#')).map((c) =>
            positionOf('segment ', o.legacyTable, c),
          )
        : (
            await Promise.all(
              (['sums', 'legacy', 'new', 'extras'] as const).map((side) =>
                o.store.list<VerifyCheckpoint>(VerifyKey.segmentPrefix(o.runId, side)),
              ),
            )
          )
            .flat()
            .map((c) => positionOf(`${c.side} segment `, undefined, c));
    return restartingRun({
      process: killer,
      base,
      waitOut: kind === 'backfill' ? (err) => this.waitForCdc(err, o) : undefined,
      start: (endpoint, attempt) => start(makeDynamoClient(endpoint), attempt),
      positions,
      onResume: (r) => this.resumed.push(r),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  /** Starts injecting (after the set-up and the seed). */
  arm(): void {
    this.plan.arm();
  }

  /**
   * Runs the operator's side of the incident while faults are on: every `REPLAY_EVERY_MS`, replays
   * what the dead-letter queue holds (the frontier holds `F` at a dead-lettered record until a replay
   * writes it, so without this the walk stalls, correctly); and opens the `dual-read` faults' windows
   * when `phase()` first reads DUAL_READ.
   */
  watch(phase: () => Phase, cdc: OperatedCdc): void {
    this.watching = true;
    this.operator = (async () => {
      while (this.watching) {
        await new Promise((r) => setTimeout(r, REPLAY_EVERY_MS));
        await this.replay(cdc);
      }
    })();
    const waiting = this.picked.filter((f) => f.opens === 'dual-read');
    if (!waiting.length) return;
    this.watcher = (async () => {
      while (this.watching && phase() !== 'DUAL_READ') await new Promise((r) => setTimeout(r, 100));
      if (!this.watching || !this.plan.armed) return;
      for (const f of waiting)
        for (const r of f.rules) {
          this.plan.open(r.name, this.outageMs);
          this.opened.push({ fault: f.name, openedAtMs: this.plan.elapsed(), forMs: this.outageMs });
        }
    })();
  }

  /** Ends the background loops (the walk failed or is over); waits for them. */
  async stop(): Promise<void> {
    this.watching = false;
    await this.watcher;
    await this.operator;
    for (const p of this.killable.values()) p.close();
  }

  /** The read API's telemetry with the fault run's observations added. */
  telemetry(base: ReadTelemetry): ReadTelemetry {
    const c = this.counters;
    return {
      ...base,
      read: (e, sampled) => {
        if (e.fallback) c.fallbacks++;
        if (e.reason === 'NEW_UNAVAILABLE') c.routedAround++;
        if (e.status >= 500) {
          c.readErrors++;
          if (this.readErrorSamples.length < 5)
            this.readErrorSamples.push({
              atMs: this.plan.elapsed(),
              op: e.op,
              mode: e.mode,
              route: e.route,
              reason: e.reason,
              status: e.status,
              ...(e.surface === undefined ? {} : { surface: e.surface }),
              ...(this.lastStoreFailure === undefined ? {} : { lastStoreFailure: this.lastStoreFailure }),
            });
        }
        base.read(e, sampled);
      },
      storeFailure: (id, store, timedOut, message) => {
        this.storeFailures[store] = (this.storeFailures[store] ?? 0) + 1;
        this.lastStoreFailure = `${store}${timedOut ? ' (timed out)' : ''}: ${message}`;
        base.storeFailure(id, store, timedOut, message);
      },
      breakerChanged: (id, from, to) => {
        if (to === 'open') c.breakerOpenings++;
        base.breakerChanged(id, from, to);
      },
    };
  }

  /** Counts an error the frontier tracker's loop caught. */
  trackerError(): void {
    this.counters.trackerErrors++;
  }

  /**
   * Stops injecting, then — as the operator does once an incident is over — replays every dead-lettered
   * batch through the sync handler (the core replay, `replayDeadLetter`, via the local CDC's
   * `replayDeadLetters`); entries whose records can never apply stay dead-lettered and are reported.
   */
  async settle(cdc: OperatedCdc): Promise<void> {
    this.watching = false;
    await this.watcher;
    await this.operator;
    this.plan.disarm();
    await this.replay(cdc);
    this.pollerErrors = cdc.poller.stats.pollerErrors;
  }

  /** Notes every entry (with its reason) and replays the queue; a replay that fails is tried again later. */
  private async replay(cdc: OperatedCdc): Promise<void> {
    for (const d of cdc.deadLetters.entries) {
      this.dead.set(d.id, d);
      if (this.poison) notePoison(this.poison, d);
    }
    // Emptied since the last replay (entries whose records were all waived were deleted): none remain.
    if (!cdc.deadLetters.entries.length) {
      this.remaining = 0;
      return;
    }
    try {
      const r = await cdc.replayDeadLetters();
      this.replayed += r.replayed;
      this.remaining = r.remaining;
    } catch {
      this.replayFailures++;
      this.remaining = cdc.deadLetters.entries.length;
    }
  }

  /** `poison`: writes the item present at seed time (call after the seed, before the stream exists). */
  async seedPoison(workload: PoisonHooks['workload']): Promise<void> {
    await this.writePoison(workload, 'seed');
  }

  /** `poison`: writes the live items while CDC runs, and waits until CDC has dead-lettered each. */
  async livePoison(workload: PoisonHooks['workload'], cdc: PoisonHooks['cdc']): Promise<void> {
    if (!this.poison) return;
    await this.writePoison(workload, 'live');
    await awaitDeadLettered(this.poison, cdc);
  }

  /** Writes the poison items that enter legacy at `when`, counting them for the fault table. */
  private async writePoison(workload: PoisonHooks['workload'], when: 'seed' | 'live'): Promise<void> {
    for (const p of this.poison?.items ?? [])
      if (p.when === when) {
        await workload.put(p.item);
        this.poisonWritten++;
      }
  }

  /**
   * `clock-skew`: the read API's clock (`now` of the read handler), `clock()` shifted by the skew; or
   * undefined (the handler keeps its default).
   */
  readClock(clock: () => number = Date.now): (() => number) | undefined {
    const skew = this.skew?.skewMs;
    if (skew === undefined) return undefined;
    return () => {
      this.skewedReadings++;
      return clock() + skew;
    };
  }

  /**
   * `stream-trim`: pauses the consumer past the retention, waits for the stream gap, and recovers
   * (trim-operator.ts). Call in SHADOW before the first verification.
   */
  async streamTrim(h: Omit<TrimHooks, 'sampler'>): Promise<StreamGapOutcome | undefined> {
    if (!this.trim) return undefined;
    const sampler = makeStreamsClient(this.raw ?? {});
    try {
      this.trimOutcome = await injectAndRecover(this.trim, { ...h, sampler });
    } finally {
      sampler.destroy();
    }
    return this.trimOutcome;
  }

  /** `stream-trim`: what the checker needs (trimmed records never delivered; the gap check). */
  streamGapFor(delivered: ReadonlySet<string>):
    | {
        readonly undelivered: ReturnType<typeof trimmedUndelivered>;
        readonly check: ReturnType<typeof streamGapCheck>;
      }
    | undefined {
    if (!this.trim) return undefined;
    const undelivered = trimmedUndelivered(this.trim.trimmed(), delivered, this.trimOutcome?.closedAt);
    return { undelivered, check: streamGapCheck(this.trimOutcome, undelivered.length) };
  }

  /** The keys reads may pick besides the workload's (the poison keys). */
  extraReadKeys(): readonly Item[] {
    return this.poison?.items.map((p) => p.key) ?? [];
  }

  /** `poison`, once the backfill has ended: the keys pinned to legacy (local/faults/poison-operator.ts). */
  async pinPoison(h: PoisonHooks): Promise<void> {
    if (this.poison) await pinPoison(this.poison, h);
  }

  /** `poison`, while pinned: batch gets and queries of each pinned key's partition through the API. */
  async probePinned(api: Parameters<typeof probePinned>[1]): Promise<void> {
    if (this.poison) await probePinned(this.poison, api);
  }

  /** `poison`, before FINALIZED: the remedy its guardrail names (local/faults/poison-operator.ts). */
  async unpinPoison(h: PoisonHooks): Promise<void> {
    if (this.poison) await unpinPoison(this.poison, h);
  }

  /** `poison`: the check that every read of a pinned key while pinned came from legacy (none without pins). */
  pinnedReadsChecks(reads: readonly ReadRecord[]): CheckResult[] {
    const window = this.poison?.pinWindow();
    if (!this.poison || !window) return [];
    return [
      checkPinnedReads({
        keys: this.poison.items.map((p) => p.key),
        window,
        reads,
        probes: this.poison.pinnedProbes(),
      }),
    ];
  }

  /** The API reads, for the poison outcomes (which store served each read of a poison key). */
  readsForReport(reads: readonly PoisonRead[]): void {
    this.poisonReads = reads;
  }

  /** The fault table, with the run's invariant verdicts. */
  report(
    checks: ReadonlyArray<{
      readonly name: string;
      readonly passed: boolean;
      readonly checked: number;
      readonly failures: number;
      readonly examples: readonly string[];
    }>,
  ): FaultReport {
    const counts = this.plan.counts();
    const reasons: Record<string, number> = {};
    for (const d of this.dead.values()) {
      // The reason's first line, without sequence numbers, groups entries by cause.
      const reason = (d.reason.split('\n')[0] ?? '').replace(/\b\d{10,}\b:?\s*/g, '').slice(0, 200);
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const voided: string[] = [];
    if (this.picked.some((f) => f.opens === 'dual-read') && !this.opened.length)
      voided.push('the outage window never opened: the walk did not reach DUAL_READ while faults were armed');
    const skewed = this.skew && skewVoided(this.skew, checks);
    if (skewed) voided.push(skewed);
    for (const p of this.killable.values())
      if (!p.kills)
        voided.push(`kill-${p.name}: the ${p.name} process was never killed (too few calls in this run)`);
    return {
      faults: this.picked.map((f) => ({
        name: f.name,
        description: f.description,
        injected:
          f.rules.reduce((n, r) => n + (counts[r.name] ?? 0), 0) +
          (f.kill ? (this.killable.get(f.kill.process)?.kills ?? 0) : 0) +
          (f.workload === 'stream-trim' && this.trimOutcome ? 1 : 0) +
          (f.workload === 'poison' ? this.poisonWritten : 0) +
          (f.workload === 'clock-skew' ? this.skewedReadings : 0),
      })),
      rate: this.rate,
      seed: this.seed,
      answers: {
        sdkRetries: this.layer.retries(),
        byRole: this.layer.byRole,
        deadLetters: this.dead.size,
        deadLetterReasons: reasons,
        replayed: this.replayed,
        stillDeadLettered: this.remaining,
        replayFailures: this.replayFailures,
        breakerOpenings: this.counters.breakerOpenings,
        fallbacksToLegacy: this.counters.fallbacks,
        routedAroundNew: this.counters.routedAround,
        readStoreFailures: this.storeFailures,
        readErrors: this.counters.readErrors,
        readErrorSamples: this.readErrorSamples,
        trackerErrors: this.counters.trackerErrors,
        pollerErrors: this.pollerErrors,
        processes: [...this.killable.values()].map((p) => ({
          process: p.name,
          kills: p.kills,
          restarts: p.restarts,
          events: p.events,
        })),
        resumes: this.resumed,
        ...(this.poison ? { poison: this.poison.outcomes(this.poisonReads) } : {}),
        ...(this.skew
          ? {
              clockSkew: {
                skewMs: this.skew.skewMs,
                marginMs: this.skew.marginMs,
                withinMargin: this.skew.withinMargin,
              },
            }
          : {}),
        // The trim's answers go on after the injection (the consumer resumes): counted at report time.
        ...(this.trimOutcome
          ? { streamGap: { ...this.trimOutcome, trim: this.trim?.report() ?? this.trimOutcome.trim } }
          : {}),
        windows: this.opened,
      },
      verdicts: Object.fromEntries(checks.map((c) => [c.name, c.passed])),
      voided,
    };
  }
}
