/**
 * A backfill's progress from its segment checkpoints, as numbers (`--json`) and as text bars: per
 * segment the items scanned against its share of the legacy table's approximate item count, the
 * observed scan rate and the ETA. Pure (the clock is passed in).
 *
 * The bars are drawn here rather than with cli-progress: `status --watch` re-renders a whole screen
 * each tick, on a TTY or not, while cli-progress owns the cursor of a live terminal.
 *
 * The estimate is an estimate: DescribeTable's ItemCount is refreshed about every six hours and a
 * segment's share of a parallel Scan is only about 1/N of the table, so a running segment shows at most
 * 99 % and its ETA is "—" once it has passed its share; only a checkpoint marked done shows 100 %.
 */
import type { SegmentCheckpoint } from '../core/backfill';

/** One segment's progress. */
export interface SegmentView {
  readonly segment: number;
  readonly scanned: number;
  readonly copied: number;
  readonly skipped: number;
  readonly poison: number;
  readonly done: boolean;
  /** 0..1; null without an item count to compare with. */
  readonly fraction: number | null;
  /** Items per second this segment scanned since it started. */
  readonly ratePerSecond: number;
  /** Milliseconds to finish at that rate; null when done, unknown, or past its estimated share. */
  readonly etaMs: number | null;
}

/** The whole backfill's progress. */
export interface BackfillProgress {
  readonly totalSegments: number;
  readonly segmentsDone: number;
  readonly scanned: number;
  readonly copied: number;
  readonly skipped: number;
  readonly poison: number;
  /** The legacy table's approximate item count, if known. */
  readonly estimatedItems: number | null;
  readonly fraction: number | null;
  /** Items per second over all segments (sum of the running segments' rates). */
  readonly ratePerSecond: number;
  /** The slowest running segment's ETA (the run ends when its last segment does). */
  readonly etaMs: number | null;
  readonly segments: readonly SegmentView[];
}

const rateOf = (c: SegmentCheckpoint): number => {
  const seconds = (c.updatedAt - c.startedAt) / 1000;
  return seconds > 0 ? c.scanned / seconds : 0;
};

/**
 * The progress of a backfill whose checkpoints are `checkpoints`, against a legacy table of about
 * `estimatedItems` items (undefined: unknown).
 */
export function backfillProgress(
  checkpoints: readonly SegmentCheckpoint[],
  estimatedItems: number | undefined,
): BackfillProgress {
  const totalSegments = checkpoints[0]?.totalSegments ?? 0;
  const share =
    estimatedItems !== undefined && totalSegments > 0 ? estimatedItems / totalSegments : undefined;
  const segments = [...checkpoints]
    .sort((a, b) => a.segment - b.segment)
    .map((c): SegmentView => {
      const ratePerSecond = c.done ? 0 : rateOf(c);
      const fraction = c.done ? 1 : share ? Math.min(0.99, c.scanned / share) : share === 0 ? 0.99 : null;
      const left = share !== undefined ? share - c.scanned : undefined;
      const etaMs =
        c.done || left === undefined || left <= 0 || ratePerSecond <= 0
          ? null
          : Math.round((left / ratePerSecond) * 1000);
      return {
        segment: c.segment,
        scanned: c.scanned,
        copied: c.copied,
        skipped: c.skippedExists,
        poison: c.poison,
        done: c.done,
        fraction,
        ratePerSecond,
        etaMs,
      };
    });
  const sum = (f: (s: SegmentView) => number) => segments.reduce((n, s) => n + f(s), 0);
  const scanned = sum((s) => s.scanned);
  const segmentsDone = segments.filter((s) => s.done).length;
  const allDone = totalSegments > 0 && segmentsDone === totalSegments;
  const running = segments.filter((s) => !s.done);
  const etas = running.map((s) => s.etaMs);
  return {
    totalSegments,
    segmentsDone,
    scanned,
    copied: sum((s) => s.copied),
    skipped: sum((s) => s.skipped),
    poison: sum((s) => s.poison),
    estimatedItems: estimatedItems ?? null,
    fraction: allDone
      ? 1
      : estimatedItems
        ? Math.min(0.99, scanned / estimatedItems)
        : estimatedItems === 0 && totalSegments > 0
          ? 0.99
          : null,
    ratePerSecond: sum((s) => s.ratePerSecond),
    etaMs:
      allDone || etas.length === 0 || etas.some((e) => e === null) ? null : Math.max(...(etas as number[])),
    segments,
  };
}

/** A bar of `width` cells for `fraction` (0..1), or a dotted bar when unknown. */
export function bar(fraction: number | null, width = 24): string {
  if (fraction === null) return '·'.repeat(width);
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** `1h 02m`, `3m 05s`, `12s`; `—` when unknown. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const pct = (f: number | null): string =>
  f === null ? '  ? %' : `${Math.floor(f * 100)}`.padStart(3) + ' %';

/** The progress as text: a total line, then one bar per segment (at most `maxSegments`, the rest summed). */
export function progressText(p: BackfillProgress, maxSegments = 16): string {
  if (p.totalSegments === 0) return '  no segment checkpoint yet (the backfill has not copied a page)';
  const lines = [
    `  ${bar(p.fraction)} ${pct(p.fraction)}  ${p.scanned} scanned of ~${p.estimatedItems ?? '?'}, ` +
      `${p.copied} copied, ${p.skipped} present, ${p.poison} poison; ${p.segmentsDone}/${p.totalSegments} segments done; ` +
      `${p.ratePerSecond.toFixed(0)} items/s; ETA ${duration(p.etaMs)}`,
  ];
  for (const s of p.segments.slice(0, maxSegments))
    lines.push(
      `  seg ${String(s.segment).padStart(4)} ${bar(s.fraction, 16)} ${pct(s.fraction)}  ${s.scanned} scanned` +
        `${s.done ? ', done' : `, ${s.ratePerSecond.toFixed(0)}/s, ETA ${duration(s.etaMs)}`}`,
    );
  if (p.segments.length > maxSegments)
    lines.push(`  … ${p.segments.length - maxSegments} more segments (--json lists every one)`);
  return lines.join('\n');
}
