/**
 * What a rehearsal measured, as it happened, and the report built from it (the JSON written by
 * `--report` and `--json`, the terminal summary and the HTML charts all read `RehearsalReport`):
 * phase timeline, backfill progress, CDC and frontier lag, read latency and routing, shadow mismatches,
 * verification results, the invariant verdicts and peak memory (Node and the DynamoDB Local JVM).
 */
import { readFileSync } from 'node:fs';
import type { Phase, SegmentCheckpoint } from '../../core';
import type { VerifyReport } from '../../core/verify';
import type { CheckResult, FrontierSample, ReadRecord } from './checker';
import type { FaultReport } from '../faults';

/** One guardrail of a forward move as the report shows it (core/control/guardrails.ts `id`/`reason`). */
export interface Guardrail {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

/** A forward move the walk asked the control plane for: made, or refused with the guardrails. */
export interface AdvanceResult {
  readonly moved: boolean;
  readonly from: Phase;
  readonly to: Phase;
  readonly guardrails: readonly Guardrail[];
}

/** One entry of the phase timeline. */
export interface TimelineEntry {
  /** Milliseconds since the rehearsal started. */
  readonly t: number;
  readonly kind: 'phase' | 'refused' | 'mark';
  /** The phase entered (kind `phase`), or the one refused. */
  readonly phase?: Phase;
  readonly action: string;
  readonly detail: string;
  readonly guardrails?: readonly Guardrail[];
}

/** A point of a time series: `t` ms since the start. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

/** Latency of one (store, mode) pair. */
export interface LatencyRow {
  readonly store: string;
  readonly mode: string;
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The whole report of a rehearsal. */
export interface RehearsalReport {
  readonly migrationId: string;
  readonly settings: {
    readonly items: number;
    readonly writeRate: number;
    readonly readRate: number;
    readonly dwellMs: number;
    readonly seed: number;
    readonly data: boolean;
  };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
  readonly timeline: readonly TimelineEntry[];
  readonly backfill: {
    /** Items scanned per segment over time. */
    readonly segments: Record<string, Point[]>;
    /** Scanned items per second, over time. */
    readonly throughput: Point[];
    readonly scanned: number;
    readonly copied: number;
  };
  readonly cdcLagMs: Point[];
  readonly frontierLagMs: Point[];
  readonly lateRecords: number;
  readonly reads: {
    readonly total: number;
    readonly latency: readonly LatencyRow[];
    /** Reads per phase, by the store that answered. */
    readonly byPhase: Record<string, Record<string, number>>;
    readonly statuses: Record<string, number>;
  };
  readonly shadowComparisons: Record<string, number>;
  readonly verifications: ReadonlyArray<{
    readonly runId: string;
    readonly status: string;
    readonly clean: boolean;
    readonly durationMs: number;
    readonly counts: Record<string, number>;
    /** Legacy writes acknowledged while it ran (the workload never pauses for a verification). */
    readonly writesDuring?: number;
    /** Unmappable items of keys pinned to legacy (expected: not against clean). */
    readonly pinned?: number;
    /** Why it is not clean (`notCleanReason`); the rehearsal then runs it again. */
    readonly reason?: string;
  }>;
  readonly writes: {
    readonly requestedPerSecond: number;
    readonly achievedPerSecond: number;
    readonly acknowledged: number;
    readonly failed: number;
  };
  readonly memory: { readonly nodePeakRssBytes: number; readonly jvmPeakRssBytes: number | null };
  readonly audit: readonly string[];
  readonly extra: Record<string, number>;
  /** The fault table of a run with `--faults` (local/faults/rehearsal.ts). */
  readonly faults?: FaultReport;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : 0;

/** Peak resident memory of a process (Linux `VmHWM`), or null when unknown. */
function peakRss(pid: number | 'self'): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Collects the measurements of one rehearsal. */
export class Recorder {
  private readonly t0 = Date.now();
  private readonly timeline: TimelineEntry[] = [];
  private readonly segments: Record<string, Point[]> = {};
  private readonly throughput: Point[] = [];
  private lastScanned = { t: 0, v: 0 };
  private scanned = 0;
  private copied = 0;
  private readonly cdcLagMs: Point[] = [];
  private readonly frontierLagMs: Point[] = [];
  private readonly samples: FrontierSample[] = [];
  private lateRecords = 0;
  private readonly latencies = new Map<string, number[]>();
  private readonly byPhase: Record<string, Record<string, number>> = {};
  private readonly statuses: Record<string, number> = {};
  private total = 0;
  private readonly shadows: Record<string, number> = {};
  private readonly verifications: Array<RehearsalReport['verifications'][number]> = [];
  private writeStats: RehearsalReport['writes'] = {
    requestedPerSecond: 0,
    achievedPerSecond: 0,
    acknowledged: 0,
    failed: 0,
  };
  private nodePeak = 0;
  private jvmPeak: number | null = null;
  private readonly extras: Record<string, number> = {};

  constructor(
    private readonly settings: {
      readonly items: number;
      readonly data?: readonly unknown[];
      readonly writeRate: number;
      readonly readRate: number;
      readonly dwellMs: number;
      readonly seed: number;
      readonly migration: { readonly id: string };
    },
    private readonly jvmPid?: number,
  ) {}

  private now(): number {
    return Date.now() - this.t0;
  }

  mark(action: string, detail: string): void {
    this.timeline.push({ t: this.now(), kind: 'mark', action, detail });
  }

  phase(phase: Phase, action: string, detail: string): void {
    this.timeline.push({ t: this.now(), kind: 'phase', phase, action, detail });
  }

  advance(r: AdvanceResult): void {
    this.timeline.push({
      t: this.now(),
      kind: r.moved ? 'phase' : 'refused',
      phase: r.to,
      action: r.moved ? 'advance' : 'refused',
      detail: r.guardrails.map((g) => `${g.name}: ${g.met ? 'met' : 'UNMET'} (${g.detail})`).join('; '),
      guardrails: r.guardrails,
    });
  }

  backfill(checkpoints: readonly SegmentCheckpoint[]): void {
    const t = this.now();
    let scanned = 0;
    let copied = 0;
    for (const c of checkpoints) {
      (this.segments[String(c.segment)] ??= []).push({ t, v: c.scanned });
      scanned += c.scanned;
      copied += c.copied;
    }
    if (t > this.lastScanned.t && scanned >= this.lastScanned.v) {
      const rate = ((scanned - this.lastScanned.v) * 1000) / (t - this.lastScanned.t);
      if (this.lastScanned.t > 0 || scanned > 0) this.throughput.push({ t, v: Math.round(rate) });
      this.lastScanned = { t, v: scanned };
    }
    this.scanned = scanned;
    this.copied = copied;
  }

  cdcLag(ms: number): void {
    this.cdcLagMs.push({ t: this.now(), v: ms });
  }

  frontier(at: number, published: number, late: number): void {
    if (!published) return;
    this.samples.push({ at, frontier: published });
    this.frontierLagMs.push({ t: at - this.t0, v: at - published });
    this.lateRecords += late;
  }

  frontierSamples(): readonly FrontierSample[] {
    return this.samples;
  }

  read(r: ReadRecord, latencyMs: number): void {
    this.total++;
    const store = r.servedBy ?? 'none';
    const key = `${store}|${r.mode}`;
    let list = this.latencies.get(key);
    if (!list) this.latencies.set(key, (list = []));
    list.push(latencyMs);
    const row = (this.byPhase[r.phase] ??= {});
    row[store] = (row[store] ?? 0) + 1;
    this.statuses[String(r.status)] = (this.statuses[String(r.status)] ?? 0) + 1;
  }

  /** Reads so far by the store that answered. */
  readsByStore(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of Object.values(this.byPhase))
      for (const [store, n] of Object.entries(row)) out[store] = (out[store] ?? 0) + n;
    return out;
  }

  /** Reads so far by phase, then by the store that answered. */
  readsByPhase(): Record<string, Record<string, number>> {
    return Object.fromEntries(Object.entries(this.byPhase).map(([phase, row]) => [phase, { ...row }]));
  }

  shadow(cls: string): void {
    this.shadows[cls] = (this.shadows[cls] ?? 0) + 1;
  }

  verification(r: VerifyReport, writesDuring: number, reason?: string): void {
    this.verifications.push({
      runId: r.runId,
      status: r.status,
      clean: r.clean === true,
      durationMs: r.durationMs ?? 0,
      counts: { ...(r.counts ?? {}) } as Record<string, number>,
      writesDuring,
      ...(r.pinned?.count ? { pinned: r.pinned.count } : {}),
      ...(reason === undefined ? {} : { reason }),
    });
  }

  writes(requested: number, acknowledged: number, failed: number, durationMs: number): void {
    this.writeStats = {
      requestedPerSecond: requested,
      achievedPerSecond: durationMs > 0 ? Math.round((acknowledged * 10_000) / durationMs) / 10 : 0,
      acknowledged,
      failed,
    };
  }

  memory(): void {
    this.nodePeak = Math.max(this.nodePeak, process.memoryUsage().rss, peakRss('self') ?? 0);
    if (this.jvmPid !== undefined) this.jvmPeak = Math.max(this.jvmPeak ?? 0, peakRss(this.jvmPid) ?? 0);
  }

  extra(name: string, value: number): void {
    this.extras[name] = value;
  }

  finish(checks: readonly CheckResult[], audit: readonly string[]): RehearsalReport {
    this.memory();
    const latency: LatencyRow[] = [...this.latencies]
      .map(([k, list]) => {
        const [store, mode] = k.split('|') as [string, string];
        const sorted = [...list].sort((a, b) => a - b);
        return {
          store,
          mode,
          count: sorted.length,
          p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
          p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
        };
      })
      .sort((a, b) => a.store.localeCompare(b.store) || a.mode.localeCompare(b.mode));
    return {
      migrationId: this.settings.migration.id,
      settings: {
        items: this.settings.data?.length ?? this.settings.items,
        writeRate: this.settings.writeRate,
        readRate: this.settings.readRate,
        dwellMs: this.settings.dwellMs,
        seed: this.settings.seed,
        data: this.settings.data !== undefined,
      },
      startedAt: new Date(this.t0).toISOString(),
      durationMs: this.now(),
      passed: checks.every((c) => c.passed),
      checks,
      timeline: this.timeline,
      backfill: {
        segments: this.segments,
        throughput: this.throughput,
        scanned: this.scanned,
        copied: this.copied,
      },
      cdcLagMs: this.cdcLagMs,
      frontierLagMs: this.frontierLagMs,
      lateRecords: this.lateRecords,
      reads: { total: this.total, latency, byPhase: this.byPhase, statuses: this.statuses },
      shadowComparisons: this.shadows,
      verifications: this.verifications,
      writes: this.writeStats,
      memory: { nodePeakRssBytes: this.nodePeak, jvmPeakRssBytes: this.jvmPeak },
      audit,
      extra: this.extras,
    };
  }
}
