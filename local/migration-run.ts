/**
 * What local mode's backfill (local/backfill.ts) and verification (local/verify.ts) share: where a run's
 * handlers find their tables and clock, and how a run of a deployed definition starts locally (its
 * continuation executions chained as in AWS, under a state machine id named after the migration).
 */
import type { Migration } from '../core/model';
import type { MigrationTables } from '../lambdas/common/env';
import type { AslMachine, Json } from '../stepfunctions/asl';
import { type LocalChain, type LocalLambda, startLocalChain } from './state-machine-runner';

/** The tables and clock of a local run's handlers (DynamoDB Local). */
export interface LocalRunTables extends MigrationTables {
  readonly now?: () => number;
}

/** The settings every run of local mode shares: a one-second pause poll and a ten-minute lease. */
export function localRunSettings<
  S extends { readonly pausePollSeconds: number; readonly lockLeaseMs: number },
>(defaults: S, local: Partial<S>): S {
  return { ...defaults, pausePollSeconds: 1, lockLeaseMs: 10 * 60 * 1000, ...local };
}

/** Options of a local run's start (`startLocalBackfill`, `startLocalVerify`). */
export interface StartLocalRunOptions {
  /** Shortened waits (ms) of Wait states, by state name (each run has its defaults). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Lambda handlers to use instead of the ones built from deps (tests wrap them). */
  readonly lambdas?: Record<string, LocalLambda>;
  readonly name?: string;
}

/** Starts a local run of `definition` for `migration` (and any continuation executions it chains). */
export function startLocalRun(
  run: {
    /** Which state machine (`dualread-<kind>-<migration id>`). */
    readonly kind: 'backfill' | 'verify';
    readonly migration: Migration;
    readonly definition: AslMachine;
    readonly continueAsNewState: string;
    readonly lambdas: Record<string, LocalLambda>;
    readonly waitTimeOverrides: Readonly<Record<string, number>>;
    readonly retryIntervalOverrides: Readonly<Record<string, number>>;
    readonly name?: string | undefined;
  },
  input: Json,
): LocalChain {
  return startLocalChain(run.definition, input, {
    lambdas: run.lambdas,
    continueAsNewState: run.continueAsNewState,
    stateMachineId: `arn:aws:states:local:000000000000:stateMachine:dualread-${run.kind}-${run.migration.id}`,
    waitTimeOverrides: run.waitTimeOverrides,
    retryIntervalOverrides: run.retryIntervalOverrides,
    ...(run.name ? { name: run.name } : {}),
  });
}
