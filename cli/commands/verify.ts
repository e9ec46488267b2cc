/**
 * `dualread verify [--repair] [--wait] [--run-id ID] [--segments N]`: a verification run. On AWS it
 * starts the stack's verification state machine (`adapters/verify-runs.ts`); with `--wait` it waits for
 * the end and prints the report. Locally the same definition runs in this process (`startLocalVerify`),
 * so it always waits. A finished run that is not clean (drift, unconfirmed lag, mapping defects, or a
 * run that skipped judging) exits 6 after printing its report.
 */
import type { Command } from 'commander';
import { makeSfnClient } from '../../adapters/state-machine-runs';
import { type VerifyRunInput, isClean, readVerifyReport, runVerification } from '../../adapters/verify-runs';
import { DIFF_CLASSES, DiffClass, type VerifyReport } from '../../core/verify';
import { localVerifyDeps, startLocalVerify } from '../../local/verify';
import type { CliContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { Output } from '../output';
import type { Target } from '../target';
import { asRunFailure, executionName, newRunId, runIdArg, stateMachineArnOf } from '../runs';
import { numberArg } from './parse';

/** The report as text: verdict, drift by class, lag, repairs. */
export function reportText(r: VerifyReport | undefined, runId: string, out: Output): string {
  const { c } = out;
  if (!r) return `verification ${runId}: no report written (see the execution's history)`;
  if (r.status === 'SKIPPED')
    return `verification ${runId} ${c.yellow('SKIPPED')}: ${r.skipped?.message ?? r.skipped?.reason ?? 'no reason given'}`;
  if (r.status !== 'COMPLETE') return `verification ${runId} ${r.status}${r.error ? `: ${r.error}` : ''}`;
  const lines = [
    `verification ${runId} ${r.clean ? c.green('CLEAN') : c.red('NOT CLEAN')}` +
      ` (${r.legacy?.scanned ?? 0} legacy / ${r.fresh?.scanned ?? 0} new items; checksums ${r.checksumsEqual ? 'equal' : 'differ'}` +
      `${r.durationMs !== undefined ? `; ${(r.durationMs / 1000).toFixed(1)} s` : ''})`,
  ];
  const counts = r.counts;
  const differing = DIFF_CLASSES.filter((k) => k !== DiffClass.MATCH && (counts?.[k] ?? 0) > 0);
  for (const k of differing) lines.push(`  ${c.red(k.padEnd(18))} ${counts?.[k] ?? 0}`);
  if (r.unconfirmedLag)
    lines.push(
      `  ${c.yellow('unconfirmed-lag'.padEnd(18))} ${r.unconfirmedLag} (re-check could not separate lag from drift in time)`,
    );
  if (r.lagResolved)
    lines.push(`  lag-resolved       ${r.lagResolved} (differences CDC closed during the run)`);
  if (r.suspectsDropped) lines.push(`  ${c.yellow('suspects-dropped'.padEnd(18))} ${r.suspectsDropped}`);
  if (r.repairs)
    lines.push(
      `  repairs: ${r.repairs.repaired} repaired, ${r.repairs.alreadyFixed} already fixed, ${r.repairs.lostToCdc} lost to CDC`,
    );
  if (!r.clean)
    lines.push(
      r.repair
        ? 'run it again to confirm the repairs (docs/runbook.md "Drift found")'
        : 'see docs/runbook.md "Drift found"; `dualread verify --repair` repairs confirmed drift (audited)',
    );
  return lines.join('\n');
}

/**
 * Runs verification `input` on the target: locally in this process (always waits), on AWS through the
 * state machine (waits with `wait`). Shared by `dualread verify` and `dualread recover stream-gap`.
 */
export async function runOnTarget(
  target: Target,
  input: VerifyRunInput,
  out: Output,
  wait: boolean,
  now: number,
): Promise<{ readonly executionArn?: string; readonly report?: VerifyReport }> {
  const { runId } = input;
  if (target.mode === 'local') {
    const deps = localVerifyDeps({
      client: target.dynamo,
      migration: target.migration,
      controlTableName: target.controlTableName,
    });
    if (!out.json) out.io.stderr(`running verification ${runId} locally…\n`);
    try {
      await startLocalVerify(deps, input, { name: runId }).result;
    } catch (err) {
      throw asRunFailure('verification', err);
    }
    const report = await readVerifyReport(target.store, runId);
    return report ? { report } : {};
  }
  const sfn = makeSfnClient(target.region);
  try {
    const outcome = await runVerification({
      sfn,
      store: target.store,
      stateMachineArn: stateMachineArnOf(target, 'verification'),
      executionName: executionName(runId, now),
      input,
      ...(wait
        ? {
            wait: {
              onPoll: out.json ? undefined : (v) => out.io.stderr(`  ${v.status} ${v.executionArn}\n`),
            },
          }
        : {}),
    }).catch((err: unknown) => {
      throw asRunFailure('verification', err);
    });
    return { executionArn: outcome.executionArn, ...(outcome.report ? { report: outcome.report } : {}) };
  } finally {
    sfn.destroy();
  }
}

export function register(program: Command, context: CliContext): void {
  program
    .command('verify')
    .description('run a verification (exit 6 when it is not clean); --repair repairs confirmed drift')
    .option('--repair', 'repair confirmed drift (audited; default: report only)')
    .option('--wait', 'AWS: wait for the end and print the report (local runs always do)')
    .option('--run-id <id>', 'run id; an earlier run id resumes that run', runIdArg)
    .option('--segments <n>', 'parallel Scan segments per side', numberArg(1, 10_000, true))
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ repair?: boolean; wait?: boolean; runId?: string; segments?: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const runId = o.runId ?? newRunId('verify', context.now());
        const input: VerifyRunInput = {
          runId,
          repair: o.repair === true,
          actor: target.actor,
          ...(o.segments !== undefined ? { totalSegments: o.segments } : {}),
        };
        const { executionArn, report } = await runOnTarget(
          target,
          input,
          out,
          o.wait === true,
          context.now(),
        );
        if (target.mode === 'aws' && !o.wait) {
          out.result({ migrationId: target.migration.id, runId, executionArn }, () =>
            [
              `started verification ${runId}: ${executionArn ?? ''}`,
              'its report: `dualread status` (last verification), or start with --wait',
            ].join('\n'),
          );
          return ExitCode.OK;
        }
        const clean = isClean(report);
        out.result(
          {
            migrationId: target.migration.id,
            runId,
            clean,
            ...(executionArn ? { executionArn } : {}),
            report: report ?? null,
          },
          () => reportText(report, runId, out),
        );
        return clean ? ExitCode.OK : ExitCode.NOT_CLEAN;
      }),
    );
}
