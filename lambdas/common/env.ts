/**
 * Environment configuration of the deployed Lambdas, read one way. Each function declares its variables
 * once, as a schema (name → kind and default, `SYNC_ENV` in lambdas/sync/deps.ts, ...), and `envReader`
 * reads a variable when the wiring asks for it, validated by zod. Reads are lazy: a function reads only
 * what it uses (of the backfill functions, only the preflight needs SYNC_FUNCTION_NAME). An empty value
 * counts as unset. Every refusal has one form, naming the variable and where it comes from:
 *
 *   environment variable X is not set; the stack sets it on the <name> function
 *   environment variable X must be <what>, not "<value>"; the stack sets it on the <name> function
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { Migration } from '../../core/model';

/** One variable: what a valid value is (for the message) and the schema that reads its raw value. */
export interface EnvVar<T> {
  /** What the value must be, e.g. "a non-negative number". */
  readonly must: string;
  /** Parses the raw value (`undefined` when unset or empty) into the value the wiring uses. */
  readonly schema: z.ZodType<T>;
}

/** A function's variables by name. */
export type EnvSchema = Readonly<Record<string, EnvVar<unknown>>>;

/** The value type of a variable. */
export type EnvValue<V> = V extends EnvVar<infer T> ? T : never;

/** Text that must be set (a table name, an id). */
function text(): EnvVar<string> {
  return { must: 'set', schema: z.string() };
}

/** Text that may be unset (the wiring then has a fallback, e.g. the migration's own table name). */
function optionalText(): EnvVar<string | undefined> {
  return { must: 'text', schema: z.string().optional() };
}

/** A finite number of at least 0 (milliseconds, hours, a rate); `fallback`, if given, when unset. */
function nonNegativeNumber(): EnvVar<number | undefined>;
function nonNegativeNumber(fallback: number): EnvVar<number>;
function nonNegativeNumber(fallback?: number): EnvVar<number | undefined> {
  const schema = z.string().transform(Number).pipe(z.number().min(0));
  return {
    must: 'a non-negative number',
    schema: fallback === undefined ? schema.optional() : schema.default(fallback),
  };
}

/** A whole number of at least 1 (a concurrency); `fallback` when unset. */
function wholeNumber(fallback: number): EnvVar<number> {
  return {
    must: 'a whole number of at least 1',
    schema: z.string().transform(Number).pipe(z.int().min(1)).default(fallback),
  };
}

/** One of `values`; `fallback` when unset. */
function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  fallback: V[number],
): EnvVar<V[number]> {
  return {
    must: `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`,
    schema: z.enum(values).default(fallback),
  };
}

/** The kinds of variable a schema is made of. */
export const Env = { text, optionalText, nonNegativeNumber, wholeNumber, oneOf } as const;

/** The variables of a run over one migration's tables, first in the backfill's and verification's schemas. */
export const MIGRATION_TABLES_ENV = {
  CONTROL_TABLE_NAME: Env.text(),
  MIGRATION_ID: Env.text(),
  /** @default the migration's legacy table */
  LEGACY_TABLE_NAME: Env.optionalText(),
  /** @default the migration's new table */
  NEW_TABLE_NAME: Env.optionalText(),
} as const;

/** Reads the variables of one schema from one environment. */
export interface EnvReader<S extends EnvSchema> {
  /**
   * The variable's value (its default when unset).
   *
   * @throws the function's error when a required variable is unset or a value is malformed
   */
  get<K extends keyof S & string>(name: K): EnvValue<S[K]>;
  /** The error for a variable that is needed but unset; `detail` says why no fallback applies. */
  missing(name: keyof S & string, detail?: string): Error;
  /** The error for a value that is well-formed but not acceptable (e.g. an unknown migration id). */
  invalid(name: keyof S & string, must: string, value: string): Error;
}

/** Which function reads the variables, and what it throws. */
export interface EnvReaderOptions {
  /** As messages name it: `sync` → "the stack sets it on the sync function". */
  readonly functionName: string;
  /** Builds the error thrown (a handler's own input error, so logs and Step Functions name it). @default Error */
  readonly error?: (message: string) => Error;
}

/** A reader of `schema` over `env` (the process environment in Lambda). */
export function envReader<S extends EnvSchema>(
  schema: S,
  env: NodeJS.ProcessEnv,
  options: EnvReaderOptions,
): EnvReader<S> {
  const error = options.error ?? ((message: string) => new Error(message));
  const refuse = (name: string, problem: string): Error =>
    error(
      `environment variable ${name} ${problem}; the stack sets it on the ${options.functionName} function`,
    );
  const invalid = (name: string, must: string, value: string): Error =>
    refuse(name, `must be ${must}, not ${JSON.stringify(value)}`);
  return {
    get<K extends keyof S & string>(name: K): EnvValue<S[K]> {
      const variable = schema[name] as EnvVar<unknown>;
      const raw = env[name] === '' ? undefined : env[name];
      const parsed = variable.schema.safeParse(raw);
      if (parsed.success) return parsed.data as EnvValue<S[K]>;
      throw raw === undefined ? refuse(name, 'is not set') : invalid(name, variable.must, raw);
    },
    missing: (name, detail) => refuse(name, detail ? `is not set ${detail}` : 'is not set'),
    invalid,
  };
}

/** A reader whose schema has MIGRATION_ID. */
type MigrationIdReader = Pick<EnvReader<EnvSchema>, 'invalid'>;

/**
 * The migration of `all` (the bundled definitions) whose id is `id`, the value of MIGRATION_ID.
 *
 * @throws the reader's error when no migration has that id
 */
export function migrationNamed(e: MigrationIdReader, all: readonly Migration[], id: string): Migration {
  const migration = all.find((m) => m.id === id);
  if (!migration) {
    throw e.invalid(
      'MIGRATION_ID',
      `one of the bundled definitions' migrations (${all.map((m) => m.id).join(', ')})`,
      id,
    );
  }
  return migration;
}

/**
 * The migration a function works on: `given` (local mode and tests pass it), else the one MIGRATION_ID
 * names in the bundled definitions.
 */
export function migrationFromEnv(
  e: EnvReader<{ readonly MIGRATION_ID: EnvVar<string> }>,
  all: readonly Migration[],
  given?: Migration,
): Migration {
  return given ?? migrationNamed(e, all, e.get('MIGRATION_ID'));
}

/** The client and tables a migration's handlers are wired to (deployed, local mode and tests). */
export interface MigrationTables {
  readonly client: DynamoDBClient;
  readonly migration: Migration;
  readonly controlTableName: string;
  /** @default migration.legacyTable.tableName */
  readonly legacyTableName?: string;
  /** @default migration.newTable.tableName */
  readonly newTableName?: string;
}

/**
 * What local mode, tests and benchmarks give a function's wiring (`buildSyncDeps`, ...) instead of the
 * environment; each function's options pick the ones it takes.
 */
export interface EnvOverrides {
  /** The environment to read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** A client to use (the caller owns it); otherwise one is built. */
  readonly client?: DynamoDBClient;
  /** @default the migration MIGRATION_ID names in the bundled definitions */
  readonly migration?: Migration;
  /** @default CONTROL_TABLE_NAME */
  readonly controlTableName?: string;
  /** @default LEGACY_TABLE_NAME, else the migration's */
  readonly legacyTableName?: string;
  /** @default NEW_TABLE_NAME, else the migration's */
  readonly newTableName?: string;
  /** The clock. @default Date.now */
  readonly now?: () => number;
}
