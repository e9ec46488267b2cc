/**
 * The rehearsal: a whole live migration on DynamoDB Local, with the deployed code paths only.
 *
 *   1. tables from the definition; legacy seeded (synthetic or `--data`) before its stream exists;
 *   2. CDC (local event source + sync handler), the frontier tracker, the HTTP read API, a seeded live
 *      write workload (puts, updates, deletes, re-creates, hot keys) and read traffic (bounded, strong,
 *      shadow, read-after), all running for the whole walk;
 *   3. the phase walk through the control plane (`ControlPlane`, what `dualread` calls): BACKFILLING
 *      (backfill state machine), a premature advance to SHADOW refused by its guardrail, SHADOW,
 *      verification, DUAL_READ, a CDC stall that an alarm on frontier lag answers with a rollback (an
 *      EventBridge alarm event handed to the `control` Lambda's handler), DUAL_READ again, NEW_PRIMARY,
 *      and FINALIZED through the cutover protocol (`runCutover`, what `dualread cutover` runs: writes
 *      stopped, fence, quiet stream, F − skew > T, a verification after T, CDC switched off);
 *   4. the invariant checks (checker.ts) against the recorded history.
 *
 * The run's timeline and measurements go to a `Recorder` (recorder.ts); progress to `onEvent`.
 *
 * Over 400 lines on purpose: `rehearse` is the walk read top to bottom, in the order it happens; the
 * parts with their own logic (driver, traffic, checker, recorder, set-up) are modules of their own.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ControlStore } from '../../adapters/control-store';
import { ControlItemCdcStatus } from '../../adapters/cdc-status';
import { ControlItemCdcSwitch } from '../../adapters/cdc-switch';
import { ControlPlane, GuardrailUnmetError } from '../../adapters/control-plane';
import { ControlConflictError } from '../../adapters/control-store';
import { runCutover } from '../../adapters/cutover';
import { waiveRecord } from '../../adapters/frontier-store';
import { StreamFenceWatch } from '../../adapters/fence-watch';
import { pollerHeartbeatEnabled } from '../../adapters/migration-facts';
import { StreamShardReader, makeStreamsClient } from '../../adapters/stream-shards';
import { ALARM_DETAIL_TYPE, type Guardrail as CoreGuardrail } from '../../core/control';
import { makeControlHandler } from '../../lambdas/control/handler';
import { type DynamoEndpoint, makeDynamoClient } from '../../adapters/dynamodb';
import { scanTable } from '../../adapters/tables';
import { ControlKey, Phase, type SegmentCheckpoint } from '../../core';
import { DYNAMODB_LOCAL_TRACKER_SETTINGS } from '../../core/frontier';
import { type Item, type Migration, itemFromDynamoJson } from '../../core/model';
import type { VerifyReport } from '../../core/verify';
import { buildFrontierTracker } from '../../lambdas/frontier/deps';
import { buildReadTarget } from '../../lambdas/read/deps';
import { makeReadHandler } from '../../lambdas/read/handler';
import { NO_TELEMETRY, type ReadTelemetry } from '../../lambdas/read/telemetry';
import { localBackfillDeps, runLocalPoisonOperation, startLocalBackfill } from '../backfill';
import { startReadApiServer } from '../http-server';
import { LegacyHistory } from '../history';
import { type FaultSettings, RehearsalFaults } from '../faults';
import { startLocalCdc } from '../local-cdc';
import { localVerifyDeps, startLocalVerify } from '../verify';
import { LegacyWorkload } from '../workload';
import { checkInvariants } from './checker';
import type { ProgressSnapshot } from './progress';
import { ReadTraffic } from './readers';
import { type AdvanceResult, type Guardrail, Recorder, type RehearsalReport } from './recorder';
import { createRehearsalTables, enableLegacyStream } from './setup';
import { SurfaceReads } from './surface-reads';

/** Settings of one rehearsal. */
export interface RehearsalSettings {
  readonly migration: Migration;
  readonly endpoint: DynamoEndpoint;
  readonly controlTableName: string;
  /** Legacy items to seed (ignored with `data`). */
  readonly items: number;
  /** Items from a `--data` file, seeded instead of synthetic ones. */
  readonly data?: readonly Item[];
  /** Legacy writes per second of the live workload. */
  readonly writeRate: number;
  /** API reads per second. */
  readonly readRate: number;
  /** How long the walk dwells in each phase with traffic running (ms). */
  readonly dwellMs: number;
  readonly seed: number;
  /** The JVM's pid, for its peak memory (absent when DynamoDB Local is not ours). */
  readonly jvmPid?: number;
  readonly onEvent?: (line: string) => void;
  /** Told twice a second how the run stands (progress bars, status lines). */
  readonly onProgress?: (p: ProgressSnapshot) => void;
  /** Faults injected into the system under test (`--faults`; local/faults). */
  readonly faults?: FaultSettings;
}

/**
 * The read API's timeouts in the rehearsal. DynamoDB Local shares a laptop's cores with everything
 * else the rehearsal runs, and under load it answers a GetItem in seconds where DynamoDB answers in
 * milliseconds; with the deployed defaults (legacy 3 s) a read would then be a 503 that says more
 * about the laptop than about the system. New keeps its short timeout: a slow new table falls back to
 * legacy, which is the behaviour under test (in FINALIZED, where new is the only store, its reads get
 * the legacy timeout, as deployed).
 */
export const LOCAL_READ_OPTIONS = { legacyTimeoutMs: 20_000, controlWaitMs: 20_000 } as const;

/** Verifications the rehearsal runs before DUAL_READ until one is clean (the runbook's re-run). */
export const VERIFY_ATTEMPTS = 3;

/**
 * How long the rehearsal retries an advance whose guardrails are unmet (the frontier catching up, a
 * soak). A refusal past it fails the rehearsal with the guardrails' details.
 */
const ADVANCE_WAIT_MS = 180_000;

/** Why a verification report is not clean, in one line (its first reason). */
export function notCleanReason(r: VerifyReport): string {
  if (r.status !== 'COMPLETE') return `${r.status}${r.error ? `: ${r.error}` : ''}`;
  const drift = Object.entries(r.counts ?? {})
    .filter(([cls, n]) => cls !== 'match' && n > 0)
    .map(([cls, n]) => `${n} ${cls}`);
  if (drift.length) return `confirmed: ${drift.join(', ')}`;
  if (r.unconfirmedLag)
    return `${r.unconfirmedLag} unconfirmed lag: ${r.unconfirmedReason ?? 'no reason recorded'}`;
  if (r.suspectsDropped) return `${r.suspectsDropped} suspects dropped (per-segment cap)`;
  return 'not clean';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `predicate` every `everyMs` until it holds; throws `what` after `timeoutMs`. */
async function waitFor(
  predicate: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`rehearsal: ${what} did not happen within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Runs a rehearsal and returns its report (`report.passed` says whether every invariant held). */
export async function rehearse(s: RehearsalSettings): Promise<RehearsalReport> {
  const m = s.migration;
  const log = (line: string) => s.onEvent?.(line);
  const rec = new Recorder(s, s.jvmPid);
  const client = makeDynamoClient(s.endpoint);
  const store = new ControlStore(client, s.controlTableName, m.id);
  // With --faults, the system under test (CDC, tracker, backfill, verification, read API) is built on an
  // endpoint whose clients carry the fault layer; `client` stays the applications' and operator's.
  const tables = { legacy: m.legacyTable.tableName, new: m.newTable.tableName, control: s.controlTableName };
  const faults = s.faults ? new RehearsalFaults(s.faults, tables, s.seed, Date.now, m) : undefined;
  const sutEndpoint = faults?.endpoint(s.endpoint) ?? s.endpoint;
  const sut = faults ? makeDynamoClient(sutEndpoint) : client;
  const stops: Array<() => Promise<void>> = [];
  try {
    // 1. Tables and seed.
    await createRehearsalTables(client, m, s.controlTableName);
    const history = new LegacyHistory(m.legacyTable.key);
    const dataKeys = s.data?.map((i) => i);
    const workload = new LegacyWorkload({
      client,
      tableName: m.legacyTable.tableName,
      key: m.legacyTable.key,
      keyCount: dataKeys?.length ?? s.items,
      ...(dataKeys ? { makeKey: (i: number) => dataKeys[i] as Item } : {}),
      seed: s.seed,
      concurrency: 8,
      fidelityProbability: 0.02,
      history,
    });
    const seeded = await workload.populate(undefined, s.data);
    rec.mark('seeded', `${seeded.acknowledged} legacy items in ${seeded.durationMs} ms`);
    log(`seeded ${seeded.acknowledged} legacy items (${s.data ? '--data' : 'synthetic'})`);
    // `poison`: an item the mapping refuses, present before the stream exists (only the backfill meets it).
    await faults?.seedPoison(workload);
    const streamEnabledAt = Date.now();
    const streamArn = await enableLegacyStream(client, m.legacyTable.tableName);
    faults?.arm();

    // 2. CDC, frontier tracker, read API, traffic.
    const deliveries = new Map<string, Set<string>>();
    const firstDelivery = new Map<string, number>();
    const noteDelivery = (event: DynamoDBStreamEvent, at: number) => {
      for (const r of event.Records) {
        const seq = r.dynamodb?.SequenceNumber;
        if (!seq || !r.dynamodb?.Keys || firstDelivery.has(seq)) continue;
        firstDelivery.set(seq, at);
        const id = history.keyId(itemFromDynamoJson(r.dynamodb.Keys));
        let set = deliveries.get(id);
        if (!set) deliveries.set(id, (set = new Set()));
        set.add(seq);
      }
    };
    const cdc = await startLocalCdc({
      endpoint: sutEndpoint,
      migration: m,
      streamArn,
      controlTableName: s.controlTableName,
      poller: { heartbeatMs: 1000, pollIntervalMs: 50 },
      sync: { onBatch: (b) => rec.cdcLag(b.maxRecordAgeMs) },
      onDeliver: noteDelivery,
      ...(faults?.process('sync') ? { restarts: faults.process('sync') } : {}),
    });
    stops.push(() => cdc.close());
    // The control plane `dualread` builds for local mode, over the rehearsal's guardrail settings.
    const plane = new ControlPlane({
      store,
      migration: rehearsalGuardrails(m),
      actor: 'rehearsal@local',
      ports: {
        cdcStatus: new ControlItemCdcStatus(store, () => Date.now(), {
          dynamo: client,
          legacyTableName: m.legacyTable.tableName,
          streamArn,
        }),
        cdcEnabled: pollerHeartbeatEnabled(store, () => Date.now()),
      },
    });
    // What a CloudWatch alarm's EventBridge rule invokes: the control Lambda's handler.
    const controlHandler = makeControlHandler({ plane });
    let phase: Phase = (await plane.status()).state.phase;
    rec.phase(phase, 'init', 'migration created');
    faults?.watch(() => phase, cdc);
    stops.push(async () => faults?.stop());
    log(
      `guardrails of the rehearsal: soak ${plane.migration.guardrails.soakMs} ms, ${plane.migration.guardrails.shadowMinComparisons} shadow comparisons, ${plane.migration.guardrails.cleanVerifications} clean verification(s), approvals for ${plane.migration.guardrails.approvalFor.join(', ')}`,
    );

    const buildTracker = (endpoint: DynamoEndpoint) =>
      buildFrontierTracker({
        endpoint,
        migration: m,
        controlTableName: s.controlTableName,
        streamArn,
        env: {},
        config: { ...DYNAMODB_LOCAL_TRACKER_SETTINGS, itemEvidenceAfterMs: 1000 },
      }).tracker;
    // With kill-tracker, a tracker rebuilt from what it persisted after each kill (local/faults).
    const tracker = faults?.restartingTracker(buildTracker) ?? buildTracker(sutEndpoint);
    let tracking = true;
    let overBudget = 0;
    let alarmArmed = false;
    let alarms = 0;
    const trackerLoop = (async () => {
      while (tracking) {
        try {
          const r = await tracker.step();
          const at = Date.now();
          rec.frontier(at, r.published, r.newLateRecords);
          overBudget = r.published && at - r.published > m.read.stalenessBudgetMs ? overBudget + 1 : 0;
          // The alarm: frontier lag over the budget for 3 consecutive datapoints (as a CloudWatch alarm
          // on FrontierLagSeconds would), whose action calls the control plane's alarm entry point.
          if (alarmArmed && overBudget >= 3) {
            alarmArmed = false;
            const before = phase;
            const after = await controlHandler(alarmEvent('FrontierLagHigh', m.read.stalenessBudgetMs));
            if (after.phase !== before) {
              alarms++;
              phase = after.phase as Phase;
              rec.phase(
                phase,
                'rollback',
                `alarm FrontierLagHigh (frontier lag over ${m.read.stalenessBudgetMs} ms for 3 datapoints)`,
              );
              log(`ALARM FrontierLagHigh → rolled back ${before} → ${phase}`);
            }
          }
        } catch (err) {
          rec.mark('tracker-error', (err as Error).message);
          faults?.trackerError();
        }
        await sleep(250);
      }
    })();
    stops.push(async () => {
      tracking = false;
      await trackerLoop;
    });

    const surfaceReads = new SurfaceReads({
      migration: m,
      client,
      seed: s.seed,
      ratePerSecond: Math.max(1, s.readRate / 4),
    });
    const server = await startReadApiServer({
      handler: makeReadHandler({
        // A fresh secret per run: page tokens live only as long as this rehearsal's read API.
        tokenSecret: randomBytes(32).toString('hex'),
        targets: [
          buildReadTarget({ migration: m, controlTableName: s.controlTableName, endpoint: sutEndpoint }),
        ],
        telemetry: ((t: ReadTelemetry) => faults?.telemetry(t) ?? t)({
          ...NO_TELEMETRY,
          comparison: (e) => {
            rec.shadow(e.class);
            surfaceReads.compared(e);
          },
        }),
        options: LOCAL_READ_OPTIONS,
        // `clock-skew`: the read API's clock, skewed (local/faults/skew.ts); the checker keeps true time.
        ...((clock) => (clock ? { now: clock } : {}))(faults?.readClock()),
      }),
    });
    stops.push(() => server.close());
    const reads = new ReadTraffic({
      url: server.url,
      migrationId: m.id,
      seed: s.seed,
      ratePerSecond: s.readRate,
      anyKey: (random) => {
        // `poison`: one read in 20 goes to a poison key (read from legacy while it exists there).
        const extra = faults?.extraReadKeys() ?? [];
        if (extra.length && random() < 0.05) return extra[Math.floor(random() * extra.length)] as Item;
        return workload.keyAt(Math.floor(random() * workload.keyCount));
      },
      phase: () => phase,
      onRead: (r, ms) => rec.read(r, ms),
    });
    reads.start();
    stops.push(() => reads.stop());
    surfaceReads.start(server.url);
    stops.push(() => surfaceReads.stop());

    let writing = true;
    const writeStarted = Date.now();
    const chunk = Math.max(1, Math.round(s.writeRate / 4));
    let acknowledged = 0;
    let failedWrites = 0;
    const writer = (async () => {
      while (writing) {
        const r = await workload.run({
          operations: chunk,
          ratePerSecond: s.writeRate,
          onWrite: (w) => reads.noteWrite(w.key, w.ackedAt),
        });
        acknowledged += r.acknowledged;
        failedWrites += r.failed;
      }
    })();
    const fenceWrites = async (): Promise<number> => {
      writing = false;
      await writer;
      const fence = Date.now();
      rec.writes(s.writeRate, acknowledged, failedWrites, fence - writeStarted);
      return fence;
    };
    stops.push(async () => {
      if (writing) await fenceWrites();
    });

    // Memory and backfill progress samples.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        rec.memory();
        const segments = await store.list<SegmentCheckpoint>('SEGMENT#').catch(() => []);
        if (segments.length) rec.backfill(segments);
        const last = rec.frontierSamples().at(-1);
        s.onProgress?.({
          phase,
          segments: segments.map((c) => ({ segment: c.segment, scanned: c.scanned, done: c.done })),
          items: workload.keyCount,
          frontierLagMs: last ? Date.now() - last.frontier : null,
          readsByStore: rec.readsByStore(),
          readsByPhase: rec.readsByPhase(),
        });
        await sleep(500);
      }
    })();
    stops.push(async () => {
      sampling = false;
      await sampler;
    });

    /** One forward move through the control plane: made, or refused with its guardrails. */
    const tryAdvance = async (to: Phase, reason: string): Promise<AdvanceResult> => {
      const from = phase;
      try {
        const r = await plane.advance({ to, reason });
        return { moved: true, from, to, guardrails: (r.guardrails ?? []).map(shown) };
      } catch (err) {
        if (err instanceof GuardrailUnmetError)
          return { moved: false, from, to, guardrails: err.guardrails.map(shown) };
        if (err instanceof ControlConflictError) return { moved: false, from, to, guardrails: [] };
        throw err;
      }
    };
    const advance = async (to: Phase, options: { reason: string }) => {
      const r = await tryAdvance(to, options.reason);
      rec.advance(r);
      const why = r.guardrails.map((g) => `${g.name} ${g.met ? 'met' : 'UNMET'}: ${g.detail}`).join('; ');
      log(r.moved ? `advanced ${r.from} → ${r.to} (${why})` : `REFUSED ${r.from} → ${r.to} (${why})`);
      if (r.moved) phase = r.to;
      return r;
    };
    /**
     * Advances, retrying while guardrails are unmet (they become true as the system catches up), for at
     * most `ADVANCE_WAIT_MS`.
     */
    const advanceWhenMet = async (to: Phase, options: { reason: string }) => {
      const deadline = Date.now() + ADVANCE_WAIT_MS;
      for (;;) {
        const r = await tryAdvance(to, options.reason);
        if (r.moved || Date.now() > deadline) {
          rec.advance(r);
          log(
            `${r.moved ? 'advanced' : 'REFUSED'} ${r.from} → ${r.to} (${r.guardrails.map((g) => `${g.name}: ${g.detail}`).join('; ')})`,
          );
          if (!r.moved)
            throw new Error(`rehearsal: could not advance to ${to}: ${JSON.stringify(r.guardrails)}`);
          phase = r.to;
          return r;
        }
        await sleep(500);
      }
    };
    let verifyNo = 0;
    /**
     * Verifications until one is clean, at most `VERIFY_ATTEMPTS`, while the live workload goes on
     * writing. A verification under live writes can end not clean without drift when the frontier lags
     * beyond the re-check's wait bound (a loaded laptop; injected faults slow CDC and the tracker on
     * purpose): then the rehearsal does what the runbook tells an operator, it runs it again, and each
     * attempt stays in the report with its reason. Real drift stays not clean on every attempt.
     */
    const verifyUntilClean = async (): Promise<VerifyReport> => {
      for (let attempt = 1; ; attempt++) {
        const report = await verifyRun(`rehearsal-${++verifyNo}`);
        if (report.clean) return report;
        const why = notCleanReason(report);
        if (attempt >= VERIFY_ATTEMPTS)
          throw new Error(
            `rehearsal: no clean verification in ${VERIFY_ATTEMPTS} attempts; the last: ${why}`,
          );
        rec.mark('verify-again', `verification ${report.runId} not clean (${why}): running it again`);
        log(
          `verification ${report.runId} not clean: running it again (attempt ${attempt + 1} of ${VERIFY_ATTEMPTS})`,
        );
      }
    };
    const verifyRun = async (runId: string, repair = false): Promise<VerifyReport> => {
      log(`verification ${runId} started${writing ? ' (live writes go on)' : ''}`);
      const ackedBefore = acknowledged;
      const start = (c: typeof sut, n = 1) =>
        startLocalVerify(
          localVerifyDeps({ client: c, migration: m, controlTableName: s.controlTableName }),
          { runId, totalSegments: 4, repair },
          { name: n > 1 ? `${runId}-restart-${n}` : runId },
        );
      const run = faults?.restartingRun('verify', { ...runOf, runId }, start) ?? start(sut);
      await run.result;
      await run.settled();
      const report = await store.get<VerifyReport>(ControlKey.verify(runId));
      if (!report) throw new Error(`rehearsal: verification ${runId} stored no report`);
      rec.verification(report, acknowledged - ackedBefore, report.clean ? undefined : notCleanReason(report));
      log(
        `verification ${runId}: ${report.clean ? 'clean' : 'NOT clean'} (${report.status}; ` +
          `resolved lag ${report.lagResolved ?? 0}, unconfirmed lag ${report.unconfirmedLag ?? 0}, ` +
          `rewritten by CDC ${report.rewrittenByCdc ?? 0}, ${acknowledged - ackedBefore} legacy writes during it, ` +
          `counts ${JSON.stringify(report.counts ?? {})})${report.clean ? '' : `: ${notCleanReason(report)}`}`,
      );
      return report;
    };

    // 3. The walk. (`poison`: the live items the mapping refuses go in while CDC runs.)
    await faults?.livePoison(workload, cdc);
    await sleep(s.dwellMs / 2);
    await advanceWhenMet(Phase.BACKFILLING, { reason: 'CDC is consuming: start the backfill' });
    const startBackfill = (c: typeof sut) =>
      startLocalBackfill(
        localBackfillDeps({ client: c, migration: m, controlTableName: s.controlTableName, streamArn }),
        {
          runId: 'rehearsal',
          totalSegments: m.backfill.segments,
        },
      );
    rec.mark('backfill-start', 'backfill state machine started');
    log('backfill started');
    const runOf = { store, legacyTable: m.legacyTable.tableName, log };
    const backfill =
      faults?.restartingRun('backfill', { ...runOf, runId: 'rehearsal' }, startBackfill) ??
      startBackfill(sut);
    // The premature advance: SHADOW needs the backfill COMPLETE, and it is still running.
    const premature = await advance(Phase.SHADOW, { reason: 'premature: backfill still running' });
    if (premature.moved)
      throw new Error('rehearsal: the guardrail let SHADOW in before the backfill completed');
    await backfill.result;
    await backfill.settled();
    rec.backfill(await store.list<SegmentCheckpoint>('SEGMENT#'));
    rec.mark('backfill-end', 'backfill state machine finished');
    log('backfill finished');
    // `poison`: the operator pins the poison keys to legacy (audited); the walk goes on with them.
    const poisonHooks = {
      workload,
      cdc,
      poisonOperation: (p: Parameters<typeof runLocalPoisonOperation>[1]) =>
        runLocalPoisonOperation(
          localBackfillDeps({ client, migration: m, controlTableName: s.controlTableName, streamArn }),
          p,
        ),
      waiveRecord: (seq: string, key: Item, reason: string) =>
        waiveRecord(
          client,
          s.controlTableName,
          m.id,
          seq,
          { actor: plane.actor, reason, at: Date.now() },
          key,
        ),
      log,
    };
    if (faults?.poison) {
      const ended = (await store.getState())?.backfill.status ?? 'unknown';
      rec.mark('poison', `backfill ended ${ended}; the operator pins the poison keys to legacy`);
      await faults.pinPoison(poisonHooks);
    }
    await advanceWhenMet(Phase.SHADOW, { reason: 'backfill complete' });
    await sleep(s.dwellMs);
    // stream-trim: the consumer paused past the retention, the gap detected, the recovery run.
    await faults?.streamTrim({
      streamArn,
      client,
      store,
      actor: plane.actor,
      clockSkewMs: m.read.clockSkewMs,
      verify: verifyRun,
      tryAdvance: async () => {
        const r = await advance(Phase.DUAL_READ, { reason: 'stream gap open: the guardrail must refuse' });
        return { moved: r.moved, heldByGap: r.guardrails.some((g) => g.name === 'stream-gap' && !g.met) };
      },
      log,
    });
    await verifyUntilClean();
    await advanceWhenMet(Phase.DUAL_READ, { reason: 'verification clean' });
    await plane.setRollout(100, 'rehearsal: every cohort');
    await sleep(s.dwellMs);

    // The alarm: CDC stalls (its poller stops), F falls behind, the alarm rolls reads back to legacy.
    alarmArmed = true;
    log('CDC stalled on purpose: waiting for the frontier-lag alarm');
    rec.mark('cdc-stall', 'CDC poller stopped');
    await cdc.poller.stop();
    await waitFor(() => phase === Phase.SHADOW, 'the frontier-lag alarm rollback', 90_000);
    await cdc.poller.start();
    const resumedAt = Date.now();
    rec.mark('cdc-resume', 'CDC poller started again');
    log('CDC resumed');
    await waitFor(
      // Caught up: F has passed the moment CDC resumed, so every write of the stall is applied. Not
      // "lag under half the budget": under load and faults F's lag hovers near that while writes flow
      // (one CI run waited 180 s in vain); the lag the next phases need is their guardrails' concern.
      async () => ((await store.getFrontier())?.frontier ?? 0) >= resumedAt,
      'the frontier catching up after the stall',
      // A deadline, not a window: on DynamoDB Local stream creation times are truncated to the minute,
      // so while writes flow F can advance in steps of up to a minute, and a loaded machine (or injected
      // faults) adds to that; the condition is met as soon as it holds.
      180_000,
      250,
    );
    // The alarm stays disarmed from here: on a loaded laptop frontier lag can brush the budget again,
    // and a second rollback would make the walk depend on the machine's load (the drill is one alarm).
    await advanceWhenMet(Phase.DUAL_READ, { reason: 'resume after the alarm: frontier caught up' });
    await plane.setRollout(100, 'rehearsal: every cohort again');
    await sleep(s.dwellMs);
    if (plane.migration.guardrails.approvalFor.includes(Phase.NEW_PRIMARY))
      await plane.approve(Phase.NEW_PRIMARY, 'rehearsal');
    await advanceWhenMet(Phase.NEW_PRIMARY, { reason: 'rollout 100 %, frontier fresh' });
    await sleep(s.dwellMs);
    if (faults?.poison) {
      // Batch gets and queries of each pinned key's partition, then the FINALIZED guardrail's remedy.
      await faults.probePinned({
        url: server.url,
        migrationId: m.id,
        phase,
        otherKey: workload.keyAt(0),
      });
      await faults.unpinPoison(poisonHooks);
    }

    // Cutover, as `dualread cutover --fence-now` runs it: the applications (the workload) stop writing
    // legacy, then the fence T, a quiet stream and F − skew > T, a verification after T, CDC off.
    if (plane.migration.guardrails.approvalFor.includes(Phase.FINALIZED))
      await plane.approve(Phase.FINALIZED, 'rehearsal');
    const stopped = await fenceWrites();
    rec.mark('writes-stopped', `legacy writes stopped at ${new Date(stopped).toISOString()}`);
    log('legacy writes stopped; cutover');
    // The incident ends when writes stop: CDC drains, faults stop and the dead-letter queue is replayed
    // (local/faults), before the cutover waits for F to pass the fence.
    if (faults) {
      await cdc.poller.drain(120_000);
      await faults.settle(cdc);
    }
    const reader = new StreamShardReader(makeStreamsClient(s.endpoint), streamArn);
    const cutover = await runCutover(
      {
        plane,
        store,
        cdc: new ControlItemCdcSwitch(store, plane.actor),
        watch: (fenceAt, positions) =>
          new StreamFenceWatch({ reader, fenceAt, ...(positions ? { positions } : {}) }),
        verifications: {
          start: async (runId) => ({
            runId,
            finished: verifyRun(runId).then(
              () => ({ status: 'SUCCEEDED' as const }),
              (err: unknown) => ({ status: 'FAILED' as const, error: String(err) }),
            ),
          }),
        },
        onEvent: (e) => {
          rec.mark(`cutover-${e.kind}`, e.message);
          log(`cutover ${e.step ?? e.kind}: ${e.message}`);
        },
      },
      { fenceNow: true, quietWindowMs: 1000, timeoutMs: 180_000, pollMs: 250 },
    );
    if (cutover.result !== 'finalized')
      throw new Error(`rehearsal: the cutover ended ${cutover.result}: ${cutover.reason}`);
    phase = Phase.FINALIZED;
    rec.phase(phase, 'advance', cutover.reason);
    await sleep(s.dwellMs / 2);

    // 4. Stop, scan, check.
    await reads.stop();
    // CDC is off since the cutover (the poller obeys the switch); nothing was written after the fence.
    const legacyItems = await scanTable(client, m.legacyTable.tableName);
    const newItems = await scanTable(client, m.newTable.tableName);
    // stream-trim: trimmed records never reached the sync handler; they count as delivered when the
    // recovery closed the gap (never, if it did not), so F covering one earlier fails the check.
    const gap = faults?.streamGapFor(new Set([...firstDelivery.keys()].map((q) => BigInt(q).toString())));
    for (const t of gap?.undelivered ?? []) {
      const id = history.keyId(t.keys);
      let set = deliveries.get(id);
      if (!set) deliveries.set(id, (set = new Set()));
      set.add(t.seq);
      if (t.at !== undefined) firstDelivery.set(t.seq, t.at);
    }
    const byKey = new Map<string, number[]>();
    for (const [id, seqs] of deliveries)
      byKey.set(
        id,
        [...seqs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).map((q) => firstDelivery.get(q) as number),
      );
    const checks = [
      ...checkInvariants({
        migration: m,
        history,
        reads: reads.reads,
        streamEnabledAt,
        deliveries: byKey,
        frontiers: rec.frontierSamples(),
        legacyItems,
        newItems,
      }),
      ...(gap ? [gap.check] : []),
      ...(faults?.pinnedReadsChecks(reads.reads) ?? []),
    ];
    await surfaceReads.stop();
    for (const [name, n] of Object.entries(surfaceReads.extras())) rec.extra(name, n);
    rec.extra('deadLetters', cdc.deadLetters.depth);
    rec.extra('alarms', alarms);
    const report = rec.finish(
      checks,
      (await store.listAudit()).map((a) => `${a.action} ${a.from ?? ''}→${a.to ?? ''} ${a.reason}`),
    );
    faults?.readsForReport(reads.reads);
    return faults ? { ...report, faults: faults.report(checks) } : report;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (sut !== client) sut.destroy();
    client.destroy();
  }
}

/**
 * The rehearsal's guardrail settings: the definition's, with the waits a rehearsal of minutes cannot
 * sit through shortened (no soak, few shadow comparisons, per key and per query surface, over a
 * one-minute window, one clean verification); every guardrail is
 * still evaluated by the control plane, and approvals are given by name, audited.
 */
function rehearsalGuardrails(m: Migration): Migration {
  return {
    ...m,
    guardrails: {
      ...m.guardrails,
      soakMs: 0,
      shadowMinComparisons: Math.min(m.guardrails.shadowMinComparisons, 20),
      // Each query surface is judged on the rate of whatever page comparisons it had: the short walk
      // makes too few per minute (none at all under load) to require a minimum.
      surfaceMinComparisons: 0,
      // The shortest window defineMigration allows: an hour would still hold the comparisons made
      // while the backfill ran (keys not yet in new), minutes before, and refuse DUAL_READ for them.
      shadowWindowMs: Math.min(m.guardrails.shadowWindowMs, 60_000),
      cleanVerifications: Math.min(m.guardrails.cleanVerifications, 1),
    },
  };
}

/** A guardrail as the report shows it. */
function shown(g: CoreGuardrail): Guardrail {
  return { name: g.id, met: g.met, detail: g.reason };
}

/** A CloudWatch alarm's state change as EventBridge delivers it to the control Lambda. */
function alarmEvent(alarmName: string, budgetMs: number): Record<string, unknown> {
  const time = new Date().toISOString();
  return {
    version: '0',
    id: randomBytes(8).toString('hex'),
    'detail-type': ALARM_DETAIL_TYPE,
    source: 'aws.cloudwatch',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:000000000000:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: 'ALARM',
        reason: `frontier lag over ${budgetMs} ms for 3 datapoints`,
        timestamp: time,
      },
      previousState: { value: 'OK' },
    },
  };
}
