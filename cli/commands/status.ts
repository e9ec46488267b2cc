/**
 * `dualread status [--watch]`: one screen — phase and rollout, the next phase's guardrails met or not,
 * backfill (per segment bars and ETA), CDC and frontier lag, shadow comparisons, the read mix (AWS:
 * CloudWatch), dead letters, the last verification, approvals. `--watch` re-renders every `--interval`
 * seconds until Ctrl-C; with `--json` it prints one JSON document per line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ControlStatus } from '../../adapters/control-plane';
import { readCutover } from '../../adapters/cutover';
import type { CutoverProgress } from '../../core/control';
import { gapSummary } from '../../core/frontier';
import { type ReadMix, makeCloudWatchClient, readMix } from '../../adapters/read-mix';
import { type BackfillProgress, progressText } from '../backfill-progress';
import type { CliContext } from '../context';
import type { Output } from '../output';
import type { Target } from '../target';
import { backfillView } from './backfill';
import { numberArg } from './parse';

/** What `status` adds to the control plane's status: backfill progress and the read mix. */
export interface StatusExtras {
  readonly backfillProgress: BackfillProgress;
  /** AWS: from CloudWatch; null locally (the local read API publishes no metrics) or when unreadable. */
  readonly readMix: ReadMix | null;
  /** Why the read mix is null. */
  readonly readMixNote?: string;
  /** The cutover's progress (`CUTOVER` item), null before the first fence. */
  readonly cutover: CutoverProgress | null;
}

/** Reads the extras; a read-mix failure is reported in the note, never fails the status. */
export async function statusExtras(target: Target, now: number): Promise<StatusExtras> {
  const [view, cutover] = await Promise.all([backfillView(target), readCutover(target.store)]);
  const base = { backfillProgress: view.progress, cutover: cutover ?? null };
  if (target.mode === 'local')
    return {
      ...base,
      readMix: null,
      readMixNote: 'not measured locally (the local read API publishes no metrics; see the shadow line)',
    };
  const cw = makeCloudWatchClient(target.region);
  try {
    return { ...base, readMix: await readMix(cw, target.migration.id, now) };
  } catch (err) {
    return {
      ...base,
      readMix: null,
      readMixNote: `CloudWatch GetMetricData failed (${(err as Error).name}: ${(err as Error).message}); check cloudwatch:GetMetricData permission`,
    };
  } finally {
    cw.destroy();
  }
}

function mixText(x: StatusExtras): string {
  const m = x.readMix;
  if (!m) return `read mix: ${x.readMixNote ?? 'unknown'}`;
  return (
    `read mix (last ${m.windowMinutes} min): ${m.fromNew} from new, ${m.fromLegacy} from legacy` +
    `${m.newShare === null ? '' : ` (${(m.newShare * 100).toFixed(1)} % new)`}`
  );
}

const iso = (ms: number | undefined): string => (ms ? new Date(ms).toISOString() : '—');

/** The cutover line: its step, the fence T, and why it aborted (with the keys written after T). */
export function cutoverText(p: CutoverProgress | null): string {
  if (!p) return 'cutover: not started (dualread cutover --fence-now, docs/cutover.md)';
  const extra =
    p.step === 'ABORTED'
      ? ` — aborted ${iso(p.abortedAt)}: ${p.abortReason ?? ''}${p.keysAfterFence?.length ? `; written after T: ${p.keysAfterFence.join(', ')}` : ''}`
      : p.step === 'FINALIZED'
        ? ` at ${iso(p.finalizedAt)}`
        : `${p.verificationRunId ? `, verification ${p.verificationRunId}` : ''}${p.cdcDisabledAt ? `, CDC off since ${iso(p.cdcDisabledAt)}` : ''}`;
  return `cutover: ${p.step}, fence T ${iso(p.fenceAt)} by ${p.actor}${extra}`;
}

/** The JSON document of a status (the facts without the STATE they repeat). */
export function statusJson(s: ControlStatus, x?: StatusExtras): unknown {
  const { state: _s, ...facts } = s.facts;
  return {
    migrationId: s.migrationId,
    state: s.state,
    next: s.next ?? null,
    frontierLagMs: s.frontierLagMs,
    shadow: s.shadow,
    ...(x ? { backfillProgress: x.backfillProgress, readMix: x.readMix, cutover: x.cutover } : {}),
    facts,
  };
}

/** The human screen of a status. */
export function statusText(s: ControlStatus, out: Output, x?: StatusExtras): string {
  const { c } = out;
  const st = s.state;
  const f = s.facts;
  const lines = [
    `${c.bold(`migration ${s.migrationId}`)}  phase ${c.cyan(c.bold(st.phase))} since ${iso(st.phaseSince ?? st.updatedAt)}` +
      `  rollout ${st.rolloutPercent} %  (version ${st.version}, last change by ${st.updatedBy})`,
  ];
  if (s.next) lines.push(`next: ${c.bold(s.next.to)}`, out.guardrails(s.next.guardrails));
  else lines.push('next: — (FINALIZED)');
  const b = st.backfill;
  lines.push(
    `backfill: ${b.status}${b.copied !== undefined ? `, ${b.copied} copied` : ''}${b.skipped !== undefined ? `, ${b.skipped} present` : ''}` +
      `${f.poison ? c.yellow(`, ${f.poison} unresolved`) : ''}${b.completedAt ? `, completed ${iso(b.completedAt)}` : ''}` +
      `${st.controls.paused ? c.yellow(' — runs PAUSED') : ''}` +
      (x && x.backfillProgress.totalSegments > 0 ? `\n${progressText(x.backfillProgress, 8)}` : ''),
    `cdc: ${f.cdc ? (f.cdc.consuming ? c.green('consuming') : c.red('not consuming')) + ` — ${f.cdc.reason}` : 'not checked'}` +
      `${f.cdcEnabled === undefined ? '' : f.cdcEnabled ? ', enabled' : ', disabled'}`,
    `frontier: F ${iso(f.frontier?.frontier)}, lag ${s.frontierLagMs === null ? 'unbounded (none published)' : `${(s.frontierLagMs / 1000).toFixed(1)} s`}` +
      ` (budget ${(f.stalenessBudgetMs / 1000).toFixed(1)} s)`,
    ...(f.frontier?.gap
      ? [
          `stream gap: ${(f.frontier.gap.closedAt === undefined ? c.red : (t: string) => t)(gapSummary(f.frontier.gap) ?? '')}`,
        ]
      : []),
    `shadow since ${iso(f.shadow.since)}: ${s.shadow.compared} compared, ${s.shadow.mismatches} mismatched` +
      `${s.shadow.compared ? ` (${((s.shadow.mismatches / s.shadow.compared) * 100).toFixed(3)} %)` : ''}, ${s.shadow.withinLag} lag-explained`,
    ...(x ? [mixText(x)] : []),
    `dead letters: ${f.deadLetters === undefined ? c.yellow('unknown') : f.deadLetters === 0 ? '0' : c.red(String(f.deadLetters))}`,
  );
  const v = f.verifications[0];
  lines.push(
    `last verification: ${v ? `${v.runId} ${v.status}${v.status === 'COMPLETE' ? (v.clean ? c.green(' clean') : c.red(' differences')) : ''}, started ${iso(v.startedAt)}` : 'none'}`,
  );
  if (x && (x.cutover || st.phase === 'NEW_PRIMARY')) lines.push(cutoverText(x.cutover));
  for (const a of st.approvals ?? [])
    lines.push(`approval: ${a.phase} by ${a.actor} at ${iso(a.at)} — ${a.reason}`);
  if (st.settings && Object.keys(st.settings).length) lines.push(`overrides: ${JSON.stringify(st.settings)}`);
  return lines.join('\n');
}

export function register(program: Command, context: CliContext): void {
  program
    .command('status')
    .description(
      'where the migration stands: phase, rollout, guardrails of the next phase, lag, shadow, verification',
    )
    .option('--watch', 'refresh until interrupted (with --json: one JSON document per line)')
    .option('--interval <seconds>', 'refresh interval of --watch', numberArg(1, 3600), 5)
    .action(
      context.action(async (cmd: Command) => {
        const opts = cmd.opts<{ watch?: boolean; interval: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        if (!opts.watch) {
          const [s, x] = await Promise.all([target.plane.status(), statusExtras(target, context.now())]);
          out.result(statusJson(s, x), () => statusText(s, out, x));
          return;
        }
        for (;;) {
          const [s, x] = await Promise.all([target.plane.status(), statusExtras(target, context.now())]);
          if (!out.json && out.io.isTTY) out.io.stdout('\x1b[2J\x1b[H');
          out.line(statusJson(s, x), () => statusText(s, out, x));
          await sleep(opts.interval * 1000);
        }
      }),
    );
}
