/**
 * The rehearsal's command-line options (of the CLI's
 * `dualread rehearse`): parsing with named errors, defaults, and turning them into a run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadMigrations } from '../../adapters/migration-loader';
import type { Migration } from '../../core/model';
import { DualReadError } from '../../core/common';
import { usersMigration } from '../../examples/users/migration';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoLocal } from '../dynamodb-local';
import { writeHtmlReport } from './html';
import { Progress } from './progress';
import { type RehearsalReport } from './recorder';
import { rehearse } from './rehearse';
import { loadDynamoJsonLines } from './setup';
import { FAULT_DEFAULTS, FAULT_NAMES } from '../faults';
import { summary } from './summary';

/** A rehearsal option out of range; the message says which and what is accepted. */
export class RehearsalOptionError extends DualReadError {}

/** Parsed options. */
export interface RehearseOptions {
  readonly migration?: string;
  readonly migrationId?: string;
  readonly data?: string;
  readonly items: number;
  readonly writeRate: number;
  readonly readRate: number;
  /** Seconds the walk dwells in each phase with traffic running. */
  readonly duration: number;
  readonly seed: number;
  readonly report?: string;
  readonly json: boolean;
  /** `--faults`: fault names (local/faults/catalog.ts), `all` for every one. */
  readonly faults?: readonly string[];
  /** `--fault-rate`: probability of the probabilistic faults. */
  readonly faultRate?: number;
  /** `--clock-skew`: the read API's clock skew under the `clock-skew` fault, signed ms. */
  readonly clockSkew?: number;
  /** `--stream-retention`: the stream retention the `stream-trim` fault simulates, ms. */
  readonly streamRetention?: number;
}

export const REHEARSAL_DEFAULTS = {
  items: 20_000,
  writeRate: 100,
  readRate: 100,
  duration: 60,
  seed: 1,
  report: 'rehearsal-report',
} as const;

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new RehearsalOptionError(`${name} must be an integer from 1 to ${max}; got "${value}"`);
    return n;
  };
}

function faultNames(value: string): string[] {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => n !== 'all' && !FAULT_NAMES.includes(n));
  if (!names.length || unknown.length)
    throw new RehearsalOptionError(
      `--faults takes "all" or comma-separated names of ${FAULT_NAMES.join(', ')}; got "${value}"`,
    );
  return names;
}

function faultRate(value: string): number {
  const p = Number(value);
  if (!(value.trim() !== '' && p > 0 && p <= 1))
    throw new RehearsalOptionError(
      `--fault-rate must be a probability above 0 and at most 1; got "${value}"`,
    );
  return p;
}

function clockSkew(value: string): number {
  const ms = Number(value);
  if (!(value.trim() !== '' && Number.isInteger(ms) && Math.abs(ms) <= 3_600_000))
    throw new RehearsalOptionError(
      `--clock-skew must be a whole number of milliseconds from -3600000 to 3600000 (signed); got "${value}"`,
    );
  return ms;
}

function streamRetention(value: string): number {
  const ms = Number(value);
  if (!(value.trim() !== '' && Number.isInteger(ms) && ms >= 500 && ms <= 600_000))
    throw new RehearsalOptionError(
      `--stream-retention must be a whole number of milliseconds from 500 to 600000; got "${value}"`,
    );
  return ms;
}

/** Declares the rehearsal's options on a commander command. */
export function rehearsalOptions(cmd: Command): Command {
  return cmd
    .option('--migration <file>', 'definitions file of your migration (default: the example users migration)')
    .option('--migration-id <id>', 'which migration of the definitions file (default: its only one)')
    .option('--data <file>', 'seed legacy from DynamoDB JSON lines (the format of DynamoDB export to S3)')
    .option(
      '--items <n>',
      'synthetic legacy items to seed',
      positiveInt('--items', 5_000_000),
      REHEARSAL_DEFAULTS.items,
    )
    .option(
      '--write-rate <n>',
      'legacy writes per second',
      positiveInt('--write-rate', 100_000),
      REHEARSAL_DEFAULTS.writeRate,
    )
    .option(
      '--read-rate <n>',
      'API reads per second',
      positiveInt('--read-rate', 100_000),
      REHEARSAL_DEFAULTS.readRate,
    )
    .option(
      '--duration <seconds>',
      'total time the walk dwells in phases with traffic running (spread over the phases)',
      positiveInt('--duration', 86_400),
      REHEARSAL_DEFAULTS.duration,
    )
    .option(
      '--seed <n>',
      'workload seed: the same seed gives the same workload',
      positiveInt('--seed', 2 ** 31),
      REHEARSAL_DEFAULTS.seed,
    )
    .option('--report <dir>', 'where to write report.html and report.json', REHEARSAL_DEFAULTS.report)
    .option('--json', 'print the report as JSON on stdout instead of the summary', false)
    .option(
      '--faults <names>',
      `inject faults into the system under test: all, or some of ${FAULT_NAMES.join(', ')} (comma-separated)`,
      faultNames,
    )
    .option(
      '--fault-rate <p>',
      `probability that a call hits a probabilistic fault (default ${FAULT_DEFAULTS.rate})`,
      faultRate,
    )
    .option(
      '--clock-skew <ms>',
      "with --faults clock-skew: the read API's clock skew in ms, signed (default: half the migration's read.clockSkewMs margin; beyond the margin the report voids the bounded guarantee)",
      clockSkew,
    )
    .option(
      '--stream-retention <ms>',
      `with --faults stream-trim: the stream retention simulated, ms; the consumer pauses twice as long (default ${FAULT_DEFAULTS.streamRetentionMs})`,
      streamRetention,
    );
}

/** The migration to rehearse: the example, or one from a definitions file. */
export async function resolveMigration(
  o: Pick<RehearseOptions, 'migration' | 'migrationId'>,
): Promise<Migration> {
  if (!o.migration) return usersMigration;
  const all = await loadMigrations(resolve(o.migration));
  if (o.migrationId) {
    const found = all.find((m) => m.id === o.migrationId);
    if (!found)
      throw new RehearsalOptionError(
        `${o.migration} has no migration "${o.migrationId}"; it defines ${all.map((m) => m.id).join(', ')}`,
      );
    return found;
  }
  if (all.length !== 1)
    throw new RehearsalOptionError(
      `${o.migration} defines ${all.length} migrations (${all.map((m) => m.id).join(', ')}); pick one with --migration-id`,
    );
  return all[0] as Migration;
}

/** Runs a rehearsal on a DynamoDB Local of its own; writes the report; returns the exit code. */
export async function runRehearsal(
  o: RehearseOptions,
  out: NodeJS.WriteStream = process.stdout,
): Promise<number> {
  if (o.faultRate !== undefined && !o.faults)
    throw new RehearsalOptionError('--fault-rate needs --faults (which faults to inject at that rate)');
  if (o.clockSkew !== undefined && !o.faults?.some((n) => n === 'clock-skew' || n === 'all'))
    throw new RehearsalOptionError('--clock-skew needs --faults clock-skew (or all)');
  if (o.streamRetention !== undefined && !o.faults?.some((n) => n === 'stream-trim' || n === 'all'))
    throw new RehearsalOptionError('--stream-retention needs --faults stream-trim (or all)');
  const migration = await resolveMigration(o);
  const data = o.data ? loadDynamoJsonLines(o.data, migration) : undefined;
  const progress = new Progress(o.json ? process.stderr : out);
  progress.line(`starting DynamoDB Local (Java) for migration "${migration.id}"`);
  const local = await startDynamoLocal();
  let report: RehearsalReport;
  try {
    report = await rehearse({
      migration,
      endpoint: { endpoint: local.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS },
      controlTableName: `dualread-control-${migration.id}`,
      items: o.items,
      ...(data ? { data } : {}),
      writeRate: o.writeRate,
      readRate: o.readRate,
      dwellMs: (o.duration * 1000) / 5,
      seed: o.seed,
      jvmPid: local.pid,
      ...(o.faults
        ? {
            faults: {
              names: o.faults,
              ...(o.faultRate ? { rate: o.faultRate } : {}),
              ...(o.clockSkew === undefined ? {} : { clockSkewMs: o.clockSkew }),
              ...(o.streamRetention === undefined ? {} : { streamRetentionMs: o.streamRetention }),
            },
          }
        : {}),
      onEvent: (line) => progress.line(line),
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await local.stop();
  }
  const dir = resolve(o.report ?? REHEARSAL_DEFAULTS.report);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeHtmlReport(join(dir, 'report.html'), report);
  if (o.json) out.write(`${JSON.stringify(report)}\n`);
  else
    out.write(
      `${summary(report, { color: Boolean(out.isTTY) })}\n  report: ${join(dir, 'report.html')} (and report.json)\n`,
    );
  return report.passed ? 0 : 1;
}
