/**
 * Local mode's verification: the deployed definition (stepfunctions/verify.ts) run by
 * aws-local-stepfunctions through the generic runner (local/state-machine-runner.ts) with every Task
 * bound to the real handlers (lambdas/verify) over DynamoDB Local. `ContinueAsNew` starts the next local
 * execution of the same run, as in AWS.
 */
import { verifyDepsFor } from '../lambdas/verify/deps';
import {
  DEFAULT_VERIFY_SETTINGS,
  type VerifyDeps,
  type VerifySettingsDeps,
  type VerifyStartInput,
} from '../lambdas/verify/contract';
import { makeVerifyControlHandler } from '../lambdas/verify/control';
import { makeVerifyRecheckHandler } from '../lambdas/verify/recheck';
import { makeVerifyRepairHandler } from '../lambdas/verify/repair';
import { makeVerifyScanHandler } from '../lambdas/verify/scan';
import type { Json } from '../stepfunctions/asl';
import {
  VERIFY_CONTINUE_AS_NEW_STATE,
  VerifyFunction,
  loopStates,
  verifyDefinition,
} from '../stepfunctions/verify';
import {
  type LocalRunTables,
  type StartLocalRunOptions,
  localRunSettings,
  startLocalRun,
} from './migration-run';
import type { LocalChain } from './state-machine-runner';

/**
 * Local settings: short budgets so pause, rate and the frontier wait show quickly. The lag bound is
 * above a minute because DynamoDB Local truncates creation times to the minute: a record read and not
 * yet applied holds `F` at its minute, so under load `F` can trail a legacy read by up to a minute
 * while CDC keeps up, and a shorter bound would call that lag `unconfirmed-lag` (the stream-gap
 * recovery ended runs so beside other walks). AWS's bound is 15 minutes.
 */
export const LOCAL_VERIFY_SETTINGS: VerifySettingsDeps = localRunSettings(DEFAULT_VERIFY_SETTINGS, {
  budgetMs: 3_000,
  maxLagWaitMs: 75_000,
  frontierPollMs: 200,
});

/** Options of `localVerifyDeps`. */
export interface LocalVerifyDepsOptions extends LocalRunTables {
  readonly settings?: Partial<VerifySettingsDeps>;
  readonly lookupConcurrency?: number;
}

/** Handler dependencies for local mode and tests (no CloudWatch metrics). */
export function localVerifyDeps(o: LocalVerifyDepsOptions): VerifyDeps {
  return verifyDepsFor({ ...o, settings: { ...LOCAL_VERIFY_SETTINGS, ...o.settings } });
}

/** The lambdas of the verification definition, bound to handlers over `deps`. */
export function verifyLambdas(deps: VerifyDeps): Record<string, (p: never) => Promise<unknown>> {
  return {
    [VerifyFunction.CONTROL]: makeVerifyControlHandler(deps),
    [VerifyFunction.SCAN]: makeVerifyScanHandler(deps),
    [VerifyFunction.RECHECK]: makeVerifyRecheckHandler(deps),
    [VerifyFunction.REPAIR]: makeVerifyRepairHandler(deps),
  } as Record<string, (p: never) => Promise<unknown>>;
}

/** A local verification: one or more chained executions of the same run. */
export type LocalVerify = LocalChain;

/** Options of `startLocalVerify`. */
export type StartLocalVerifyOptions = StartLocalRunOptions;

/** Starts a local verification execution (and any continuation executions it chains). */
export function startLocalVerify(
  deps: VerifyDeps,
  input: VerifyStartInput,
  options: StartLocalVerifyOptions = {},
): LocalVerify {
  const sides = ['sums', 'new', 'legacy', 'extras'] as const;
  return startLocalRun(
    {
      kind: 'verify',
      migration: deps.migration,
      definition: verifyDefinition(),
      continueAsNewState: VERIFY_CONTINUE_AS_NEW_STATE,
      lambdas: options.lambdas ?? verifyLambdas(deps),
      waitTimeOverrides: {
        ...Object.fromEntries(
          sides.flatMap((side) => [
            [loopStates(side).paused, 200],
            [loopStates(side).rate, 100],
          ]),
        ),
        ...options.waitTimeOverrides,
      },
      retryIntervalOverrides: Object.fromEntries(sides.map((side) => [loopStates(side).scan, 200])),
      name: options.name,
    },
    input as Json,
  );
}
