/**
 * Local mode's verification: the deployed definition (stepfunctions/verify.ts) run by
 * aws-local-stepfunctions through the generic runner (local/state-machine-runner.ts) with every Task
 * bound to the real handlers (lambdas/verify) over DynamoDB Local. `ContinueAsNew` starts the next local
 * execution of the same run, as in AWS.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Migration } from '../core/migration';
import { verifyDepsFor } from '../lambdas/verify/deps';
import {
  DEFAULT_VERIFY_SETTINGS,
  type VerifyDeps,
  type VerifySettingsDeps,
  type VerifyStartInput,
  makeVerifyControlHandler,
  makeVerifyRecheckHandler,
  makeVerifyRepairHandler,
  makeVerifyScanHandler,
} from '../lambdas/verify/handler';
import type { Json } from '../stepfunctions/asl';
import {
  VERIFY_CONTINUE_AS_NEW_STATE,
  VerifyFunction,
  loopStates,
  verifyDefinition,
} from '../stepfunctions/verify';
import { type LocalExecution, startLocalExecution } from './state-machine-runner';

/** Local settings: short budgets so pause, rate and the frontier wait show quickly. */
export const LOCAL_VERIFY_SETTINGS: VerifySettingsDeps = {
  ...DEFAULT_VERIFY_SETTINGS,
  budgetMs: 3_000,
  pausePollSeconds: 1,
  lockLeaseMs: 10 * 60 * 1000,
  maxLagWaitMs: 30_000,
  frontierPollMs: 200,
};

/** Options of `localVerifyDeps`. */
export interface LocalVerifyDepsOptions {
  readonly client: DynamoDBClient;
  readonly migration: Migration;
  readonly controlTableName: string;
  readonly legacyTableName?: string;
  readonly newTableName?: string;
  readonly settings?: Partial<VerifySettingsDeps>;
  readonly now?: () => number;
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
export interface LocalVerify {
  readonly executions: readonly LocalExecution[];
  /** Output of the last execution of the chain (the report summary); rejects with any failure. */
  readonly result: Promise<Json>;
  abort(): void;
  settled(): Promise<void>;
}

/** Options of `startLocalVerify`. */
export interface StartLocalVerifyOptions {
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  readonly lambdas?: Record<string, (p: never) => Promise<unknown>>;
  readonly name?: string;
}

/** Starts a local verification execution (and any continuation executions it chains). */
export function startLocalVerify(
  deps: VerifyDeps,
  input: VerifyStartInput,
  options: StartLocalVerifyOptions = {},
): LocalVerify {
  const definition = verifyDefinition();
  const lambdas = options.lambdas ?? verifyLambdas(deps);
  const stateMachineId = `arn:aws:states:local:000000000000:stateMachine:dualread-verify-${deps.migration.id}`;
  const executions: LocalExecution[] = [];
  let resolveChain!: (v: Json) => void;
  let rejectChain!: (e: unknown) => void;
  const result = new Promise<Json>((res, rej) => {
    resolveChain = res;
    rejectChain = rej;
  });
  result.catch(() => undefined);

  function launch(execInput: Json, name?: string): void {
    let continued = false;
    const execution = startLocalExecution(definition, execInput, {
      lambdas,
      tasks: {
        [VERIFY_CONTINUE_AS_NEW_STATE]: async (taskInput) => {
          continued = true;
          setImmediate(() => launch((taskInput as { Input: Json }).Input));
          return {
            ExecutionArn: `${stateMachineId}:continued-${executions.length}`,
            StartDate: new Date().toISOString(),
          };
        },
      },
      waitTimeOverrides: {
        ...Object.fromEntries(
          (['sums', 'new', 'legacy', 'extras'] as const).flatMap((side) => [
            [loopStates(side).paused, 200],
            [loopStates(side).rate, 100],
          ]),
        ),
        ...options.waitTimeOverrides,
      },
      retryIntervalOverrides: Object.fromEntries(
        (['sums', 'new', 'legacy', 'extras'] as const).map((side) => [loopStates(side).scan, 200]),
      ),
      stateMachineId,
      ...(name ? { name } : {}),
    });
    executions.push(execution);
    execution.result.then(
      (out) => {
        if (!continued) resolveChain(out);
      },
      (err: unknown) => rejectChain(err),
    );
  }

  launch(input as Json, options.name);
  return {
    executions,
    result,
    abort: () => executions[executions.length - 1]?.abort(),
    settled: async () => {
      for (const e of executions) await e.settled();
    },
  };
}
