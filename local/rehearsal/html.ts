/**
 * The self-contained HTML report: the report's JSON and chart.js inlined in one file (no network), one
 * canvas per chart. `CHARTS` lists them; the page draws each from `RehearsalReport`.
 */
import { surfaceRows } from './surface-reads';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RehearsalReport } from './recorder';
import { faultTableHtml } from '../faults/report';

/** chart.js's UMD build, located from the package root (its `exports` forbid resolving the subpath). */
export function chartJsSource(): string {
  let root = dirname(require.resolve('chart.js'));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return readFileSync(join(root, 'dist', 'chart.umd.min.js'), 'utf8');
}

/** The charts of the page, by canvas id. */
export const CHARTS = [
  'phase-timeline',
  'backfill-progress',
  'backfill-throughput',
  'lag',
  'read-latency',
  'reads-by-phase',
  'shadow',
  'invariants',
] as const;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

/** Data in a <script> block: `</script>` and U+2028/9 cannot end it early. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** Builds the page. */
export function htmlReport(r: RehearsalReport): string {
  const verdicts = r.checks
    .map(
      (k) =>
        `<tr class="${k.passed ? 'ok' : 'bad'}"><td>${escapeHtml(k.name)}</td><td>${k.passed ? 'passed' : 'FAILED'}</td>` +
        `<td>${k.checked}</td><td>${k.failures}</td><td>${escapeHtml(k.description)}${
          k.examples.length ? `<pre>${escapeHtml(k.examples.join('\n\n'))}</pre>` : ''
        }</td></tr>`,
    )
    .join('');
  const verifications = r.verifications
    .map(
      (v) =>
        `<li>${escapeHtml(v.runId)}: ${v.clean ? 'clean' : 'NOT clean'} (${escapeHtml(v.status)}, ${v.durationMs} ms, ` +
        `${v.writesDuring ?? 0} legacy writes during it)${v.reason ? `: ${escapeHtml(v.reason)}` : ''}</li>`,
    )
    .join('');
  const timeline = r.timeline
    .map(
      (e) =>
        `<li><b>${(e.t / 1000).toFixed(1)} s</b> ${escapeHtml(e.kind)} ${escapeHtml(e.phase ?? '')} — ${escapeHtml(e.detail)}</li>`,
    )
    .join('');
  const surfaces = surfaceRows(r.extra)
    .map(
      (x) =>
        `<tr><td>${escapeHtml(x.surface)}</td><td>${x.pages}</td><td>${escapeHtml(x.reads)}</td><td>${x.fromLegacy}</td><td>${x.fromNew}</td><td>${x.compared}</td><td>${x.mismatches}</td><td>${x.errors}</td></tr>`,
    )
    .join('');
  const canvases = CHARTS.map(
    (id) => `<section><h2>${id.replace(/-/g, ' ')}</h2><canvas id="${id}"></canvas></section>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dualread rehearsal: ${escapeHtml(r.migrationId)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}section{margin:1.5em 0}canvas{max-height:320px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.ok td:nth-child(2){color:#080}.bad td:nth-child(2){color:#c00;font-weight:bold}pre{white-space:pre-wrap;font-size:12px}</style>
</head><body>
<h1>Rehearsal of “${escapeHtml(r.migrationId)}”: ${r.passed ? 'PASSED' : 'FAILED'}</h1>
<p>${r.settings.items} legacy items · ${r.writes.acknowledged} writes at ${r.writes.achievedPerSecond}/s (requested ${r.writes.requestedPerSecond}/s) · ${r.reads.total} reads · ${(r.durationMs / 1000).toFixed(1)} s · started ${escapeHtml(r.startedAt)} · peak memory: node ${Math.round(r.memory.nodePeakRssBytes / 1048576)} MiB, DynamoDB Local JVM ${r.memory.jvmPeakRssBytes === null ? 'n/a' : `${Math.round(r.memory.jvmPeakRssBytes / 1048576)} MiB`}</p>
<h2>Invariants</h2><table><tr><th>invariant</th><th>verdict</th><th>checked</th><th>failures</th><th>what it means</th></tr>${verdicts}</table>
<h2>Verification</h2><ul>${verifications}</ul>
${surfaces ? `<h2>Query surfaces</h2><table><tr><th>surface</th><th>pages</th><th>reads by mode</th><th>from legacy</th><th>from new</th><th>compared</th><th>mismatches</th><th>errors</th></tr>${surfaces}</table>` : ''}
${r.faults ? faultTableHtml(r.faults, escapeHtml) : ''}
${canvases}
<h2>Timeline</h2><ol>${timeline}</ol>
<script>${chartJsSource()}</script>
<script>const REPORT = ${scriptJson(r)};
${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** Writes the page to `path`. */
export function writeHtmlReport(path: string, r: RehearsalReport): void {
  writeFileSync(path, htmlReport(r));
}

/** The page's drawing code (plain browser JavaScript over `REPORT` and `Chart`). */
const PAGE_SCRIPT = String.raw`
const PHASES = ['LEGACY_ONLY','BACKFILLING','SHADOW','DUAL_READ','NEW_PRIMARY','FINALIZED'];
const s = (t) => t / 1000;
const xy = (points) => points.map((p) => ({ x: s(p.t), y: p.v }));
const linear = (title) => ({ type: 'linear', title: { display: true, text: title } });
const line = (id, datasets, yTitle, extra) => new Chart(document.getElementById(id), {
  type: 'line', data: { datasets },
  options: Object.assign({ animation: false, parsing: true, scales: { x: linear('seconds'), y: linear(yTitle) } }, extra || {}),
});
const phases = REPORT.timeline.filter((e) => e.kind === 'phase');
const steps = phases.map((e) => ({ x: s(e.t), y: PHASES.indexOf(e.phase) }));
steps.push({ x: s(REPORT.durationMs), y: steps.length ? steps[steps.length - 1].y : 0 });
const refused = REPORT.timeline.filter((e) => e.kind === 'refused').map((e) => ({ x: s(e.t), y: PHASES.indexOf(e.phase) }));
line('phase-timeline', [
  { label: 'phase', data: steps, stepped: true },
  { label: 'refused advance', data: refused, showLine: false, pointRadius: 6, pointStyle: 'crossRot' },
], 'phase', { scales: { x: linear('seconds'), y: { min: 0, max: 5, ticks: { stepSize: 1, callback: (v) => PHASES[v] } } } });
line('backfill-progress', Object.entries(REPORT.backfill.segments).map(([seg, pts]) => ({ label: 'segment ' + seg, data: xy(pts) })), 'items scanned');
line('backfill-throughput', [{ label: 'items/s scanned', data: xy(REPORT.backfill.throughput) }], 'items per second');
line('lag', [
  {
    label: 'CDC record age (oldest per batch; DynamoDB Local truncates creation times to the minute, so up to 60 s high)',
    data: xy(REPORT.cdcLagMs),
  },
  { label: 'frontier lag (now − F)', data: xy(REPORT.frontierLagMs) },
], 'ms');
const lat = REPORT.reads.latency;
new Chart(document.getElementById('read-latency'), { type: 'bar', options: { animation: false },
  data: { labels: lat.map((r) => r.store + ' · ' + r.mode), datasets: [
    { label: 'p50 ms', data: lat.map((r) => r.p50Ms) }, { label: 'p99 ms', data: lat.map((r) => r.p99Ms) }] } });
const phaseNames = PHASES.filter((p) => REPORT.reads.byPhase[p]);
const stores = [...new Set(phaseNames.flatMap((p) => Object.keys(REPORT.reads.byPhase[p])))];
new Chart(document.getElementById('reads-by-phase'), { type: 'bar',
  options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true } } },
  data: { labels: phaseNames, datasets: stores.map((st) => ({ label: st, data: phaseNames.map((p) => REPORT.reads.byPhase[p][st] || 0) })) } });
const shadow = Object.entries(REPORT.shadowComparisons);
new Chart(document.getElementById('shadow'), { type: 'bar', options: { animation: false },
  data: { labels: shadow.map(([k]) => k), datasets: [{ label: 'shadow comparisons by class', data: shadow.map(([, n]) => n) }] } });
new Chart(document.getElementById('invariants'), { type: 'bar', options: { animation: false, indexAxis: 'y' },
  data: { labels: REPORT.checks.map((k) => k.name), datasets: [
    { label: 'cases checked', data: REPORT.checks.map((k) => k.checked), backgroundColor: '#4a4' },
    { label: 'failures', data: REPORT.checks.map((k) => k.failures), backgroundColor: '#c22' }] } });
`;
