/**
 * The terminal summary of a rehearsal: every invariant with its verdict (and, for a failure, the key and
 * history excerpt that broke it), the phase walk, and the headline numbers.
 */
import { surfaceRows } from './surface-reads';
import Table from 'cli-table3';
import pc from 'picocolors';
import type { RehearsalReport } from './recorder';
import { faultTableText } from '../faults/report';

const mib = (bytes: number | null) => (bytes === null ? 'n/a' : `${Math.round(bytes / 1024 / 1024)} MiB`);
const pct = (xs: readonly { v: number }[], p: number) => {
  const sorted = xs.map((x) => x.v).sort((a, b) => a - b);
  return sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
    : 0;
};

/** Renders the summary; `color` adds ANSI colors (a TTY). */
export function summary(r: RehearsalReport, options: { color?: boolean } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  lines.push(
    c.bold(`dualread rehearsal of "${r.migrationId}": ${r.passed ? c.green('PASSED') : c.red('FAILED')}`) +
      ` in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  const checks = new Table({
    head: ['invariant', 'verdict', 'checked', 'failures'],
    style: { head: [], border: [] },
  });
  for (const k of r.checks)
    checks.push([k.name, k.passed ? c.green('passed') : c.red('FAILED'), k.checked, k.failures]);
  lines.push(checks.toString());
  for (const k of r.checks.filter((x) => !x.passed)) {
    lines.push(c.red(`✗ ${k.name}: ${k.description}`));
    for (const e of k.examples) lines.push(`  ${e}`);
  }
  if (r.faults) lines.push(faultTableText(r.faults, { ok: c.green, bad: c.red }));
  lines.push(c.bold('phase walk'));
  for (const e of r.timeline.filter((x) => x.kind !== 'mark' || x.action === 'fence')) {
    const when = `${(e.t / 1000).toFixed(1).padStart(6)} s`;
    const what =
      e.kind === 'refused'
        ? c.yellow(`refused → ${e.phase}: ${e.detail}`)
        : e.kind === 'phase'
          ? `${e.action === 'rollback' ? c.yellow('rollback') : e.action} → ${e.phase}${e.action === 'rollback' ? `: ${e.detail}` : ''}`
          : e.detail;
    lines.push(`  ${when}  ${what}`);
  }
  const v = r.verifications.map((x) => `${x.runId} ${x.clean ? 'clean' : 'NOT clean'}`).join(', ');
  const byStore = Object.entries(r.reads.byPhase)
    .map(
      ([phase, row]) =>
        `${phase} ${Object.entries(row)
          .map(([s, n]) => `${s} ${n}`)
          .join('/')}`,
    )
    .join('; ');
  const shadow =
    Object.entries(r.shadowComparisons)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const numbers = new Table({ style: { head: [], border: [] } });
  numbers.push(
    { 'legacy items': String(r.settings.items) },
    { backfill: `${r.backfill.scanned} scanned, ${r.backfill.copied} copied` },
    {
      writes: `${r.writes.acknowledged} acknowledged at ${r.writes.achievedPerSecond}/s (requested ${r.writes.requestedPerSecond}/s), ${r.writes.failed} failed`,
    },
    {
      reads: `${r.reads.total} (${Object.entries(r.reads.statuses)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ')})`,
    },
    { 'reads by phase': byStore },
    { 'shadow comparisons': shadow },
    // The sync's oldest record age per batch, from the stream's creation times, which DynamoDB Local
    // truncates to the minute: up to 60 s more than the true age.
    {
      'CDC record age p50/p99 (minute-truncated times)': `${pct(r.cdcLagMs, 50)} / ${pct(r.cdcLagMs, 99)} ms`,
    },
    { 'frontier lag p50/p99': `${pct(r.frontierLagMs, 50)} / ${pct(r.frontierLagMs, 99)} ms` },
    { verifications: v || 'none' },
    {
      'peak memory': `node ${mib(r.memory.nodePeakRssBytes)}, DynamoDB Local JVM ${mib(r.memory.jvmPeakRssBytes)}`,
    },
  );
  lines.push(numbers.toString());
  const latency = new Table({
    head: ['store', 'mode', 'reads', 'p50 ms', 'p99 ms'],
    style: { head: [], border: [] },
  });
  for (const row of r.reads.latency) latency.push([row.store, row.mode, row.count, row.p50Ms, row.p99Ms]);
  lines.push(latency.toString());
  const surfaces = surfaceRows(r.extra);
  if (surfaces.length) {
    const t = new Table({
      head: ['surface', 'pages', 'reads by mode', 'legacy', 'new', 'compared', 'mismatches', 'errors'],
      style: { head: [], border: [] },
    });
    for (const x of surfaces)
      t.push([x.surface, x.pages, x.reads, x.fromLegacy, x.fromNew, x.compared, x.mismatches, x.errors]);
    lines.push(t.toString());
  }
  return lines.join('\n');
}
