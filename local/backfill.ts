/**
 * Local mode's backfill: the deployed definition (stepfunctions/backfill.ts) run by
 * aws-local-stepfunctions with every Task bound to the real handlers (lambdas/backfill), against
 * DynamoDB Local. `ContinueAsNew` is bound to starting the next local execution of the same run, so
 * a long local backfill chains executions exactly as it does in AWS.
 */
import { WriteMode } from '../adapters/backfill-io';
import { ControlItemCdcStatus } from '../adapters/cdc-status';
import type { BackfillStartInput, PoisonPayload } from '../core/backfill';
import type { CdcStatusPort } from '../core/cdc';
import {
  type BackfillDeps,
  type BackfillSettingsDeps,
  DEFAULT_BACKFILL_SETTINGS,
} from '../lambdas/backfill/context';
import { makeControlsHandler } from '../lambdas/backfill/controls';
import { makeFinishHandler } from '../lambdas/backfill/finish';
import { makePageHandler } from '../lambdas/backfill/page';
import { type PoisonResult, makePoisonHandler } from '../lambdas/backfill/poison';
import { makePreflightHandler } from '../lambdas/backfill/preflight';
import { backfillDepsFor } from '../lambdas/backfill/deps';
import type { AslMachine, Json } from '../stepfunctions/asl';
import {
  BackfillFunction,
  BackfillWait,
  CONTINUE_AS_NEW_STATE,
  backfillDefinition,
} from '../stepfunctions/backfill';
import {
  type LocalRunTables,
  type StartLocalRunOptions,
  localRunSettings,
  startLocalRun,
} from './migration-run';
import type { LocalChain } from './state-machine-runner';

/**
 * Settings of local mode: a shorter page budget than in AWS (pause and rate act per page anyway), and
 * the pause poll and lease of every local run.
 */
export const LOCAL_BACKFILL_SETTINGS: BackfillSettingsDeps = localRunSettings(DEFAULT_BACKFILL_SETTINGS, {
  pageBudgetMs: 10_000,
  foreignCheckBudgetMs: 60_000,
});

/** Options of `localBackfillDeps`. */
export interface LocalBackfillDepsOptions extends LocalRunTables {
  /** Legacy stream the poller must consume (checked against `CDC#CONSUMER`). */
  readonly streamArn?: string;
  /** @default the `CDC#CONSUMER` control item with a fresh heartbeat */
  readonly cdcStatus?: CdcStatusPort;
  readonly settings?: Partial<BackfillSettingsDeps>;
  /** @default partiql (25 put-if-absent INSERTs per request at normal write cost; see docs/backfill.md) */
  readonly writeMode?: WriteMode;
  readonly writeConcurrency?: number;
}

/** Handler dependencies for local mode and tests. */
export function localBackfillDeps(o: LocalBackfillDepsOptions): BackfillDeps {
  const { streamArn, cdcStatus, settings, writeMode, writeConcurrency, ...wiring } = o;
  return backfillDepsFor({
    ...wiring,
    cdcStatus: ({ store, now, legacyTableName }) =>
      cdcStatus ??
      new ControlItemCdcStatus(store, now, {
        dynamo: o.client,
        legacyTableName,
        ...(streamArn ? { streamArn } : {}),
      }),
    writeMode: writeMode ?? WriteMode.PARTIQL,
    writeConcurrency: writeConcurrency ?? 8,
    settings: { ...LOCAL_BACKFILL_SETTINGS, ...settings },
  });
}

/** The lambdas of the backfill definition, bound to handlers over `deps`. */
export function backfillLambdas(deps: BackfillDeps) {
  const preflight = makePreflightHandler(deps);
  const controls = makeControlsHandler(deps);
  const page = makePageHandler(deps);
  const finish = makeFinishHandler(deps);
  return {
    [BackfillFunction.PREFLIGHT]: preflight,
    [BackfillFunction.CONTROLS]: controls,
    [BackfillFunction.PAGE]: page,
    [BackfillFunction.FINISH]: finish,
  } as Record<string, (p: never) => Promise<unknown>>;
}

/**
 * The operator's operations on keys the backfill could not copy, in local mode: `list`, `retry` (after
 * a fix) and `waive` (docs/runbook.md "Backfill"). In AWS the same handler is the `poison` function.
 */
export function runLocalPoisonOperation(deps: BackfillDeps, payload: PoisonPayload): Promise<PoisonResult> {
  return makePoisonHandler(deps)(payload);
}

/** A local backfill: one or more chained executions of the same run. */
export type LocalBackfill = LocalChain;

/** Options of `startLocalBackfill`. */
export interface StartLocalBackfillOptions extends StartLocalRunOptions {
  /** @default backfillDefinition() (tests pass variants, e.g. with inline Maps) */
  readonly definition?: AslMachine;
}

/** Starts a local backfill execution (and any continuation executions it chains). */
export function startLocalBackfill(
  deps: BackfillDeps,
  input: BackfillStartInput,
  options: StartLocalBackfillOptions = {},
): LocalBackfill {
  return startLocalRun(
    {
      kind: 'backfill',
      migration: deps.migration,
      definition: options.definition ?? backfillDefinition(),
      continueAsNewState: CONTINUE_AS_NEW_STATE,
      lambdas: options.lambdas ?? backfillLambdas(deps),
      // The pause and rate waits: 200 and 100 ms.
      waitTimeOverrides: {
        [BackfillWait.PAUSED]: 200,
        [BackfillWait.RATE]: 100,
        ...options.waitTimeOverrides,
      },
      retryIntervalOverrides: { CopyPages: 200, ReadControls: 200 },
      name: options.name,
    },
    input as Json,
  );
}
