/**
 * Loads a user's definitions file (`--migration path/to/file.ts`). The file exports `migrations`
 * (an array of `defineMigration(...)` results) or a default export of the same, or a single migration.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DualReadError } from '../core/common';
import { type Migration, validateMigrationSet } from '../core/model';

/** The definitions file could not be loaded; the message says why and what to do. */
export class MigrationFileError extends DualReadError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`definitions file ${file}: ${problem}`);
  }
}

function isMigration(value: unknown): value is Migration {
  const m = value as Partial<Migration> | undefined;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    typeof m.mapKey === 'function' &&
    typeof m.mapItem === 'function' &&
    typeof m.unmapItem === 'function' &&
    typeof m.read === 'object'
  );
}

/** Picks the migrations out of a loaded module. */
export function migrationsFromModule(file: string, mod: unknown): readonly Migration[] {
  const exports = (mod ?? {}) as Record<string, unknown>;
  const candidate =
    exports.migrations ??
    (exports.default as Record<string, unknown> | undefined)?.migrations ??
    exports.default;
  const list = Array.isArray(candidate) ? candidate : candidate === undefined ? undefined : [candidate];
  if (!list) {
    throw new MigrationFileError(
      file,
      `exports no migrations (found exports: ${Object.keys(exports).join(', ') || 'none'}); ` +
        'write `export const migrations = [defineMigration({...})]`',
    );
  }
  list.forEach((m, i) => {
    if (!isMigration(m)) {
      throw new MigrationFileError(file, `migrations[${i}] is not the result of defineMigration({...})`);
    }
  });
  return validateMigrationSet(list as Migration[]);
}

/**
 * Imports a definitions file (TypeScript works when running under tsx, as the CLI and local mode do).
 *
 * @throws MigrationFileError for a missing file, a syntax or load error, or a wrong export;
 *   MigrationDefinitionError (from defineMigration) for an invalid definition
 */
export async function loadMigrations(path: string): Promise<readonly Migration[]> {
  const file = resolve(path);
  if (!existsSync(file))
    throw new MigrationFileError(file, 'does not exist; pass --migration <path to a .ts file>');
  let mod: unknown;
  try {
    // require, not import(): under tsx and ts-jest it loads a .ts file synchronously with the host's transform.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as unknown;
  } catch (err) {
    const e = err as Error;
    if (e instanceof DualReadError) throw e;
    const kind =
      e.name === 'SyntaxError' || /Transform failed|Expected|Unexpected/.test(e.message)
        ? 'has a syntax error'
        : 'failed to load';
    throw new MigrationFileError(file, `${kind}: ${e.message.split('\n').slice(0, 6).join('\n')}`);
  }
  return migrationsFromModule(file, mod);
}
