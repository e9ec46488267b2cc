/**
 * `dualread backfill start|pause|resume|rate N|status`.
 *
 * - `start`: on AWS, `StartExecution` of the stack's backfill state machine (`--wait` polls it to the
 *   end); locally, the same definition run in this process by the local runner (local/backfill.ts)
 *   against `--endpoint`, so the command returns when the run ends. `--run-id` of an earlier run
 *   resumes it from its checkpoints.
 * - `pause`, `resume`, `rate N`: audited changes of STATE's run controls through the control plane;
 *   the workers read them before every page (so they also pause or pace a verification run).
 * - `status`: STATE's backfill, the controls, and per segment a bar and an ETA from the checkpoints.
 * - `poison list|retry|pin`: the keys the backfill could not copy. `retry` after a fix of the mapping
 *   (pinned keys too); `pin <key|all> --reason` pins unresolved keys to legacy (audited): legacy keeps
 *   serving them, the backfill counts them settled, FINALIZED waits until each is retried, removed from
 *   legacy or waived (docs/runbook.md "Pinned keys").
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type ControlResult } from '../../adapters/control-plane';
import { approximateItemCount, segmentCheckpoints } from '../../adapters/run-progress';
import { makeSfnClient, startExecution, waitForExecution } from '../../adapters/state-machine-runs';
import { type BackfillStartInput } from '../../core/backfill';
import { ForeignItems, type RunControlsPatch } from '../../core/control';
import { localBackfillDeps, startLocalBackfill } from '../../local/backfill';
import { type BackfillProgress, backfillProgress, progressText } from '../backfill-progress';
import type { CliContext } from '../context';
import type { Output } from '../output';
import { asRunFailure, executionName, newRunId, runIdArg, stateMachineArnOf } from '../runs';
import { type Target, pascal } from '../target';
import { ExitCode } from '../exit-codes';
import { UsageError } from '../errors';
import { keyArg, poison, retryPoisonAction } from './dlq';
import { numberArg } from './parse';

function foreignArg(value: string): ForeignItems {
  const all = Object.values(ForeignItems) as string[];
  if (!all.includes(value)) throw new InvalidArgumentError(`"${value}" must be one of ${all.join(', ')}`);
  return value as ForeignItems;
}

/** The backfill's state and progress, as `backfill status` prints it. */
export async function backfillView(target: Target): Promise<{
  state: Awaited<ReturnType<Target['plane']['status']>>['state']['backfill'];
  controls: { paused: boolean; rateLimitPerSecond: number };
  progress: BackfillProgress;
}> {
  const legacy =
    target.outputs[`${pascal(target.migration.id)}LegacyTableName`] ?? target.migration.legacyTable.tableName;
  const [state, checkpoints, items] = await Promise.all([
    target.store.getState(),
    segmentCheckpoints(target.store),
    approximateItemCount(target.dynamo, legacy),
  ]);
  return {
    state: state?.backfill ?? { status: 'NOT_STARTED' },
    controls: state?.controls ?? {
      paused: false,
      rateLimitPerSecond: target.migration.backfill.rateLimitPerSecond,
    },
    progress: backfillProgress(checkpoints, items),
  };
}

/** `backfill status` as text. */
export function backfillText(v: Awaited<ReturnType<typeof backfillView>>, out: Output): string {
  const { c } = out;
  const rate = v.controls.rateLimitPerSecond ? `${v.controls.rateLimitPerSecond} items/s` : 'unlimited';
  return [
    `backfill ${c.bold(v.state.status)}${v.state.runId ? ` (run ${v.state.runId})` : ''}` +
      `${v.controls.paused ? c.yellow('  PAUSED') : ''}  rate ${rate}` +
      `${v.state.unresolved ? c.yellow(`  ${v.state.unresolved} unresolved keys (dualread backfill poison list)`) : ''}` +
      `${v.state.pinned ? c.yellow(`  ${v.state.pinned} keys pinned to legacy`) : ''}`,
    progressText(v.progress),
  ].join('\n');
}

function controlsText(r: ControlResult, out: Output): string {
  const { paused, rateLimitPerSecond } = r.state.controls;
  return (
    `${out.c.green(r.audit.action)}: runs of ${r.state.migrationId} are ${paused ? out.c.yellow('paused') : 'running'}, ` +
    `rate ${rateLimitPerSecond ? `${rateLimitPerSecond} items/s` : 'unlimited'} (by ${r.audit.actor}; ` +
    'in force from each segment’s next page)'
  );
}

async function start(
  target: Target,
  out: Output,
  o: {
    runId?: string;
    segments?: number;
    maxConcurrency?: number;
    foreignItems?: ForeignItems;
    reason?: string;
    wait?: boolean;
  },
  now: () => number,
): Promise<void> {
  const runId = o.runId ?? newRunId('backfill', now());
  const input: BackfillStartInput = {
    runId,
    actor: target.actor,
    ...(o.segments !== undefined ? { totalSegments: o.segments } : {}),
    ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
    ...(o.foreignItems !== undefined ? { foreignItems: o.foreignItems } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
  if (target.mode === 'local') {
    const deps = localBackfillDeps({
      client: target.dynamo,
      migration: target.migration,
      controlTableName: target.controlTableName,
    });
    if (!out.json) out.io.stderr(`running backfill ${runId} locally (this process runs it to the end)…\n`);
    let result: unknown;
    try {
      result = await startLocalBackfill(deps, input, { name: runId }).result;
    } catch (err) {
      throw asRunFailure('backfill', err);
    }
    const view = await backfillView(target);
    out.result({ migrationId: target.migration.id, runId, mode: 'local', result, ...view }, () =>
      [`backfill ${runId} ended`, backfillText(view, out)].join('\n'),
    );
    return;
  }
  const sfn = makeSfnClient(target.region);
  try {
    const arn = stateMachineArnOf(target, 'backfill');
    const started = await startExecution(sfn, arn, executionName(runId, now()), input);
    if (!o.wait) {
      out.result({ migrationId: target.migration.id, runId, executionArn: started.executionArn }, () =>
        [
          `started backfill ${runId}: ${started.executionArn}`,
          'follow it with `dualread backfill status` (or start with --wait)',
        ].join('\n'),
      );
      return;
    }
    const ended = await waitForExecution(sfn, started.executionArn, {
      onPoll: out.json ? undefined : (v) => out.io.stderr(`  ${v.status} ${v.executionArn}\n`),
    }).catch((err: unknown) => {
      throw asRunFailure('backfill', err);
    });
    const view = await backfillView(target);
    out.result(
      {
        migrationId: target.migration.id,
        runId,
        executionArn: ended.executionArn,
        result: ended.output,
        ...view,
      },
      () => [`backfill ${runId} ended: ${ended.executionArn}`, backfillText(view, out)].join('\n'),
    );
  } finally {
    sfn.destroy();
  }
}

export function register(program: Command, context: CliContext): void {
  const group = program
    .command('backfill')
    .description('start, pause, resume, pace and follow the backfill (legacy items copied to the new table)');

  group
    .command('start')
    .description('start (or, with --run-id of an earlier run, resume) a backfill run')
    .option('--run-id <id>', 'run id; an earlier run id resumes that run from its checkpoints', runIdArg)
    .option('--segments <n>', 'parallel Scan segments (default: the migration’s)', numberArg(1, 10_000, true))
    .option('--max-concurrency <n>', 'segments copied at the same time', numberArg(1, 10_000, true))
    .option(
      '--foreign-items <how>',
      'items of new dualread did not write: refuse, overwrite or keep',
      foreignArg,
    )
    .option('--reason <text>', 'why (recorded with the run)')
    .option('--wait', 'AWS: wait until the execution ends (local runs always do)')
    .action(
      context.onTarget(async (target, out, cmd) => {
        await start(target, out, cmd.opts(), context.now);
      }),
    );

  /** Applies a change of the run controls and prints it (pause, resume, rate). */
  const setControls = async (
    target: Target,
    out: Output,
    cmd: Command,
    patch: RunControlsPatch,
  ): Promise<void> => {
    const r = await target.plane.setRunControls(patch, cmd.opts<{ reason?: string }>().reason);
    out.result({ migrationId: target.migration.id, controls: r.state.controls, audit: r.audit }, () =>
      controlsText(r, out),
    );
  };
  const control = (name: string, description: string) =>
    group.command(name).description(description).option('--reason <text>', 'why (recorded in the audit log)');

  control('pause', 'pause backfill and verification runs at their next page (audited)').action(
    context.onTarget((target, out, cmd) => setControls(target, out, cmd, { paused: true })),
  );
  control('resume', 'resume paused runs (audited)').action(
    context.onTarget((target, out, cmd) => setControls(target, out, cmd, { paused: false })),
  );
  control('rate', 'set the rate ceiling in items/s across all segments, 0 = unlimited (audited)')
    .argument('<items-per-second>', 'items per second (0 = unlimited)', numberArg(0, 1_000_000, true))
    .action(
      context.onTarget((target, out, cmd, rate: number) =>
        setControls(target, out, cmd, { rateLimitPerSecond: rate }),
      ),
    );

  const poisonGroup = group
    .command('poison')
    .description('keys the backfill could not copy: list, retry after a fix, pin to legacy (audited)');

  poisonGroup
    .command('list')
    .description('unresolved and pinned keys, each with its reason')
    .action(
      context.onTarget(async (target, out) => {
        const r = await poison(target, { operation: 'list' });
        out.result({ migrationId: target.migration.id, result: r }, () =>
          [
            `unresolved: ${r.unresolvedCount}; pinned to legacy: ${r.pinnedCount}; backfill ${r.status ?? '?'}`,
            ...r.unresolved.map((k) => `  unresolved ${JSON.stringify(k.key)} (${k.origin}): ${k.reason}`),
            ...r.pinnedKeys.map(
              (k) =>
                `  pinned ${JSON.stringify(k.key)} (${k.origin}) by ${k.pinnedBy ?? '?'}: ${k.pinReason}; ${k.reason}`,
            ),
          ].join('\n'),
        );
      }),
    );

  poisonGroup
    .command('retry')
    .description('retry the unresolved and pinned keys after a fix (each written only where new lacks it)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(retryPoisonAction(context));

  poisonGroup
    .command('pin')
    .description(
      'pin unresolved keys to legacy (audited): not migrated yet, served by legacy; FINALIZED is refused while any is pinned',
    )
    .argument('<key>', "a legacy key in DynamoDB JSON, or 'all' (every unresolved key)")
    .option('--reason <text>', 'why these keys stay on legacy for now (required; audited)')
    .action(
      context.action(async (cmd: Command, key: string) => {
        const o = cmd.opts<{ reason?: string }>();
        if (!o.reason?.trim()) throw new UsageError('pin needs --reason "<why>": it is audited');
        const keys = key === 'all' ? ('all' as const) : keyArg(key);
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const r = await poison(target, {
          operation: 'pin',
          actor: target.actor,
          reason: o.reason.trim(),
          keys,
        });
        out.result(
          { migrationId: target.migration.id, result: r },
          () =>
            `pinned ${r.pinned} key(s) to legacy (by ${target.actor})${r.notFound ? `, ${r.notFound} not unresolved (nothing to pin)` : ''}; ` +
            `${r.pinnedCount} pinned, ${r.unresolvedCount} unresolved; backfill ${r.status ?? '?'}. ` +
            'Legacy serves them; FINALIZED waits until each is retried after a fix, removed from legacy, or waived',
        );
        return r.notFound ? ExitCode.NOT_CLEAN : ExitCode.OK;
      }),
    );

  group
    .command('status')
    .description('the backfill: status, controls, and per segment progress and ETA')
    .action(
      context.onTarget(async (target, out) => {
        const view = await backfillView(target);
        out.result({ migrationId: target.migration.id, ...view }, () => backfillText(view, out));
      }),
    );
}
