/**
 * `dualread cutover [--fence-now] [--quiet-window 30s] [--timeout 10m]` and `dualread cutover --abort`:
 * NEW_PRIMARY → FINALIZED as a protocol (docs/cutover.md), each step printed as it is reached. The
 * protocol is adapters/cutover.ts over core/control/cutover.ts; this module only wires it to the target:
 * locally the `CDC#SWITCH` item the poller obeys and a local verification (local/verify.ts); on AWS the
 * sync function's event source mapping and the verification state machine, from the stack's outputs.
 * Exit codes: 0 FINALIZED (or nothing to do), 2 preconditions unmet, 6 aborted (the keys written after
 * the fence are printed), 7 timed out (run it again to resume).
 */
import type { Command } from 'commander';
import { ControlItemCdcSwitch, EventSourceMappingSwitch } from '../../adapters/cdc-switch';
import { currentStreamArn } from '../../adapters/cdc-status';
import {
  type CutoverDeps,
  type CutoverEvent,
  type CutoverOutcome,
  abortCutover,
  runCutover,
} from '../../adapters/cutover';
import { StreamFenceWatch } from '../../adapters/fence-watch';
import { StreamShardReader, makeStreamsClient } from '../../adapters/stream-shards';
import { StateMachineVerifications, type VerificationRunner } from '../../adapters/verify-runs';
import { parseDuration } from '../../core/control';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local';
import { localVerifyDeps, startLocalVerify } from '../../local/verify';
import type { CliContext } from '../context';
import { TargetNotFoundError } from '../errors';
import { ExitCode } from '../exit-codes';
import { type Target, pascal } from '../target';

interface CutoverOpts {
  fenceNow?: boolean;
  quietWindow: string;
  timeout: string;
  abort?: boolean;
  reason?: string;
}

/** Local verification runs, in this process (the chain ends with the run). */
export function localVerifications(target: Target): VerificationRunner {
  return {
    start: async (runId) => {
      const deps = localVerifyDeps({
        client: target.dynamo,
        migration: target.migration,
        controlTableName: target.controlTableName,
      });
      const chain = startLocalVerify(deps, { runId, repair: false }, { name: runId });
      return {
        runId,
        finished: chain.result.then(
          () => ({ status: 'SUCCEEDED' as const }),
          (err: unknown) => ({
            status: 'FAILED' as const,
            error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          }),
        ),
      };
    },
  };
}

/** The cutover's dependencies for a resolved target. */
export async function cutoverDeps(
  target: Target,
  endpoint: string | undefined,
  now: () => number,
  onEvent: (e: CutoverEvent) => void,
): Promise<CutoverDeps> {
  const prefix = pascal(target.migration.id);
  const legacy = target.migration.legacyTable.tableName;
  const streamArn =
    target.mode === 'aws'
      ? (target.outputs[`${prefix}LegacyStreamArn`] ?? (await currentStreamArn(target.dynamo, legacy)))
      : await currentStreamArn(target.dynamo, legacy);
  if (!streamArn)
    throw new TargetNotFoundError(
      `legacy table ${legacy} has no stream: the cutover watches it for writes after the fence`,
    );
  const streams = makeStreamsClient(
    target.mode === 'local'
      ? { endpoint, region: target.region ?? LOCAL_REGION, credentials: LOCAL_CREDENTIALS }
      : target.region
        ? { region: target.region }
        : {},
  );
  const reader = new StreamShardReader(streams, streamArn);
  return {
    plane: target.plane,
    store: target.store,
    cdc:
      target.mode === 'local'
        ? new ControlItemCdcSwitch(target.store, target.actor, now)
        : EventSourceMappingSwitch.fromOutputs(target.outputs, prefix, target.region),
    watch: (fenceAt, positions) =>
      new StreamFenceWatch({ reader, now, fenceAt, ...(positions ? { positions } : {}) }),
    verifications:
      target.mode === 'local'
        ? localVerifications(target)
        : StateMachineVerifications.fromOutputs(target.outputs, prefix, target.region),
    now,
    onEvent,
  };
}

const EXIT: Record<CutoverOutcome['result'], number> = {
  finalized: ExitCode.OK,
  done: ExitCode.OK,
  refused: ExitCode.GUARDRAIL_UNMET,
  aborted: ExitCode.CUTOVER_ABORTED,
  timeout: ExitCode.TIMEOUT,
};

export function register(program: Command, context: CliContext): void {
  program
    .command('cutover')
    .description(
      'NEW_PRIMARY → FINALIZED as a protocol: fence legacy writes, wait for quiet and F − skew > T, verify, disable CDC, finalize (docs/cutover.md)',
    )
    .option('--fence-now', 'legacy writes are stopped: record the fence T now and start the cutover')
    .option('--quiet-window <duration>', 'how long the legacy stream must stay quiet after T', '30s')
    .option('--timeout <duration>', 'stop waiting after this long (run again to resume)', '10m')
    .option('--abort', 'cancel the cutover in progress (CDC is enabled again if it was disabled)')
    .option('--reason <text>', 'why (with --abort; recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<CutoverOpts>();
        const quietWindowMs = parseDuration(o.quietWindow, '--quiet-window');
        const timeoutMs = parseDuration(o.timeout, '--timeout');
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const stamp = (at: number): string => out.c.dim(new Date(at).toISOString());
        const onEvent = (e: CutoverEvent): void =>
          out.line({ event: e.kind, step: e.step, at: e.at, message: e.message }, () => {
            const tag =
              e.kind === 'abort' || e.kind === 'refuse' ? out.c.red(e.kind) : out.c.bold(e.step ?? e.kind);
            return `${stamp(e.at)} ${tag} ${e.message}`;
          });
        const deps = await cutoverDeps(target, context.globals(cmd).endpoint, context.now, onEvent);
        const outcome = o.abort
          ? await abortCutover(deps, o.reason?.trim() || 'aborted by the operator (no reason given)')
          : await runCutover(deps, {
              ...(o.fenceNow ? { fenceNow: true } : {}),
              quietWindowMs,
              timeoutMs,
            });
        out.line(
          { result: outcome.result, reason: outcome.reason, progress: outcome.progress, keys: outcome.keys },
          () =>
            [
              `${outcome.result === 'finalized' ? out.c.green('FINALIZED') : out.c.bold(outcome.result)}: ${outcome.reason}`,
              ...(outcome.keys?.length
                ? ['keys written to legacy after the fence:', ...outcome.keys.map((k) => `  ${k}`)]
                : []),
              ...(outcome.result === 'refused' && outcome.guardrails
                ? [out.guardrails(outcome.guardrails)]
                : []),
            ].join('\n'),
        );
        return EXIT[outcome.result];
      }),
    );
}
