/**
 * `defineMigration`: validates what a user wrote (`MigrationInput`, migration.ts) into a `Migration`
 * with every default filled in — ids and table names, key schemas, the metadata prefix, settings in
 * range, and the transforms probed (`mapKey` reads legacy key attributes only, is deterministic and
 * injective; each sample round-trips through `mapItem` and `unmapItem`) — and `validateMigrationSet`
 * for the migrations deployed together.
 *
 * Size (just over 400 lines): every check of a definition in one place, in the order the definition
 * reads, so a user's error and the rule behind it are found together.
 */
import { MigrationDefinitionError } from '../common';
import { canonicalItem, itemsEqual } from './canonical';
import {
  type BackfillSettings,
  type GuardrailSettings,
  ConsistencyMode,
  type KeySchema,
  type Migration,
  type MigrationInput,
  type ReadSettings,
  type VerificationSettings,
  keyNames,
  keyOf,
} from './migration';
import { checkIndexes, checkSurfacesOnSamples, checkUnusedIndexes, resolveSurfaces } from './surfaces';
import { assertItem } from './validation';
import { type AttributeValue, type Item, type KeyAttributeType, InvalidValueError, typeOf } from './values';

const identity = (item: Item): Item => item;
const ID_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const TABLE_PATTERN = /^[a-zA-Z0-9_.-]{3,255}$/;
const KEY_TYPES: readonly string[] = ['S', 'N', 'B'];
const MODES: readonly string[] = Object.values(ConsistencyMode);

/** A sample value of a key type, used to probe transforms. */
function sampleKeyValue(type: KeyAttributeType, seed: number): AttributeValue {
  if (type === 'S') return { S: `probe-${seed}` };
  if (type === 'N') return { N: String(1000 + seed) };
  return { B: new Uint8Array([seed, seed + 1, seed + 2]) };
}

/** A key-only sample legacy item. */
function sampleKey(key: KeySchema, seed: number): Item {
  const out: Record<string, AttributeValue> = {
    [key.partitionKey.name]: sampleKeyValue(key.partitionKey.type, seed),
  };
  if (key.sortKey) out[key.sortKey.name] = sampleKeyValue(key.sortKey.type, seed + 7);
  return out;
}

/** Checks that `key` has exactly the schema's attributes with the schema's types. */
function keyProblem(item: Item, key: KeySchema): string | undefined {
  const names = keyNames(key);
  const extra = Object.keys(item).filter((n) => !names.includes(n));
  if (extra.length) return `has attributes ${extra.map((n) => `"${n}"`).join(', ')} that are not in the key`;
  for (const attr of [key.partitionKey, key.sortKey]) {
    if (!attr) continue;
    const v = item[attr.name];
    if (v === undefined) return `lacks key attribute "${attr.name}"`;
    if (typeOf(v) !== attr.type)
      return `has "${attr.name}" of type ${typeOf(v)}, but the key schema says ${attr.type}`;
  }
  return undefined;
}

function checkKeySchema(id: string, which: string, key: KeySchema | undefined): void {
  if (!key || !key.partitionKey)
    throw new MigrationDefinitionError(id, `${which}.key.partitionKey is required`);
  for (const [role, attr] of [
    ['partitionKey', key.partitionKey],
    ['sortKey', key.sortKey],
  ] as const) {
    if (!attr) continue;
    if (typeof attr.name !== 'string' || attr.name.length === 0) {
      throw new MigrationDefinitionError(id, `${which}.key.${role}.name must be a non-empty string`);
    }
    if (!KEY_TYPES.includes(attr.type)) {
      throw new MigrationDefinitionError(
        id,
        `${which}.key.${role}.type must be "S", "N" or "B", not "${attr.type}"`,
      );
    }
  }
  if (key.sortKey && key.sortKey.name === key.partitionKey.name) {
    throw new MigrationDefinitionError(
      id,
      `${which}.key: partition and sort key are both "${key.sortKey.name}"`,
    );
  }
}

function checkRange(id: string, path: string, value: number, min: number, max: number, integer = true): void {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new MigrationDefinitionError(
      id,
      `${path} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${String(value)}`,
    );
  }
}

/**
 * Runs `fn` on a legacy key wrapped so that reading any attribute outside the key is reported:
 * that is how a mapKey that depends on non-key attributes is caught before it can route a read wrong.
 */
function probeMapKey(id: string, migrationKey: KeySchema, mapKey: (k: Item) => Item, seed: number): Item {
  const legacyKey = sampleKey(migrationKey, seed);
  const names = keyNames(migrationKey);
  const proxy = new Proxy(legacyKey, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && !names.includes(prop) && !(prop in Object.prototype)) {
        throw new MigrationDefinitionError(
          id,
          `mapKey reads attribute "${prop}", which is not a key attribute of the legacy table (key: ${names
            .map((n) => `"${n}"`)
            .join(', ')}); a new key must be computable from the legacy key alone`,
        );
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  let out: unknown;
  try {
    out = mapKey(proxy);
  } catch (err) {
    if (err instanceof MigrationDefinitionError) throw err;
    throw new MigrationDefinitionError(
      id,
      `mapKey threw on legacy key ${canonicalItem(legacyKey)}: ${String(err)}`,
    );
  }
  try {
    return assertItem(out, 'mapKey result');
  } catch (err) {
    throw new MigrationDefinitionError(
      id,
      `mapKey must return an item of attribute values: ${(err as Error).message}`,
    );
  }
}

/** Guardrail defaults (docs/design.md §5). */
export const DEFAULT_GUARDRAILS: GuardrailSettings = {
  shadowMaxMismatchRate: 0.001,
  shadowMinComparisons: 1000,
  surfaceMinComparisons: 100,
  shadowWindowMs: 3_600_000,
  maxFrontierLagMs: 0,
  soakMs: 900_000,
  cleanVerifications: 2,
  approvalFor: ['NEW_PRIMARY', 'FINALIZED'],
  autoRollback: true,
};
const APPROVABLE = ['BACKFILLING', 'SHADOW', 'DUAL_READ', 'NEW_PRIMARY', 'FINALIZED'];

/** The values a numeric setting may take: from `min` to `max`, whole numbers unless `fraction`. */
interface Range {
  readonly min: number;
  readonly max: number;
  /** Any number in the range, not only whole ones. */
  readonly fraction?: true;
  /** The setting may be left unset. */
  readonly optional?: true;
}

/** The ranges of a settings group's numeric settings, in the order they are checked. */
type Ranges<T> = { readonly [K in keyof T]?: Range };

const READ_RANGES: Ranges<ReadSettings> = {
  indexPropagationMarginMs: { min: 0, max: 600_000 },
  stalenessBudgetMs: { min: 0, max: 86_400_000 },
  shadowSampleRate: { min: 0, max: 1, fraction: true },
  controlCacheMs: { min: 0, max: 60_000 },
  clockSkewMs: { min: 0, max: 60_000 },
};

const BACKFILL_RANGES: Ranges<BackfillSettings> = {
  segments: { min: 1, max: 1_000_000 },
  pageSize: { min: 1, max: 1000 },
  rateLimitPerSecond: { min: 0, max: 1_000_000 },
  maxRatePerSecond: { min: 0, max: 1_000_000, optional: true },
  capacityShare: { min: 0.01, max: 1, fraction: true },
  onDemandRatePerSecond: { min: 1, max: 1_000_000 },
};

const GUARDRAIL_RANGES: Ranges<GuardrailSettings> = {
  shadowMaxMismatchRate: { min: 0, max: 1, fraction: true },
  shadowMinComparisons: { min: 0, max: 1_000_000_000 },
  surfaceMinComparisons: { min: 0, max: 1_000_000_000 },
  shadowWindowMs: { min: 60_000, max: 30 * 86_400_000 },
  maxFrontierLagMs: { min: 0, max: 86_400_000 },
  soakMs: { min: 0, max: 30 * 86_400_000 },
  cleanVerifications: { min: 0, max: 100 },
};

/** Checks the settings of `group` that `ranges` names, in its order (`<group>.<name>` in the message). */
function checkRanges<T extends object>(id: string, group: string, settings: T, ranges: Ranges<T>): void {
  for (const name of Object.keys(ranges) as Array<keyof T & string>) {
    const { min, max, fraction, optional } = ranges[name] as Range;
    const value = settings[name] as unknown as number;
    if (!optional || value !== undefined) checkRange(id, `${group}.${name}`, value, min, max, !fraction);
  }
}

/**
 * Validates a migration definition and fills in its defaults.
 *
 * @throws MigrationDefinitionError naming the migration and the problem
 */
export function defineMigration(input: MigrationInput): Migration {
  const id = typeof input?.id === 'string' ? input.id : '?';
  if (!ID_PATTERN.test(id)) {
    throw new MigrationDefinitionError(
      id,
      'id must start with a lowercase letter and hold only lowercase letters, digits and dashes (at most 40)',
    );
  }
  for (const which of ['legacyTable', 'newTable'] as const) {
    const table = input[which];
    if (!table) throw new MigrationDefinitionError(id, `${which} is required`);
    if (!TABLE_PATTERN.test(table.tableName ?? '')) {
      throw new MigrationDefinitionError(
        id,
        `${which}.tableName "${table.tableName}" is not a valid DynamoDB table name`,
      );
    }
    checkKeySchema(id, which, table.key);
  }
  if (input.legacyTable.tableName === input.newTable.tableName) {
    throw new MigrationDefinitionError(id, `legacy and new table are both "${input.legacyTable.tableName}"`);
  }
  if (
    input.legacyTable.streamArn !== undefined &&
    !/^arn:aws[a-z-]*:dynamodb:/.test(input.legacyTable.streamArn)
  ) {
    throw new MigrationDefinitionError(
      id,
      `legacyTable.streamArn "${input.legacyTable.streamArn}" is not a DynamoDB stream ARN`,
    );
  }
  const kmsKeyArn = input.legacyTable.kmsKeyArn;
  if (
    kmsKeyArn !== undefined &&
    !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)
  ) {
    throw new MigrationDefinitionError(
      id,
      `legacyTable.kmsKeyArn "${kmsKeyArn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; ` +
        'an alias cannot be granted: use the ARN of the key it points at)',
    );
  }
  const metadataPrefix = input.metadataPrefix ?? '_dr_';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,15}$/.test(metadataPrefix)) {
    throw new MigrationDefinitionError(
      id,
      `metadataPrefix "${metadataPrefix}" must be 1-16 letters, digits or underscores`,
    );
  }
  for (const attr of keyNames(input.newTable.key)) {
    if (attr.startsWith(metadataPrefix)) {
      throw new MigrationDefinitionError(
        id,
        `new key attribute "${attr}" uses the reserved metadata prefix "${metadataPrefix}"`,
      );
    }
  }

  const mapKey = input.mapKey ?? identity;
  const mapItem = input.mapItem ?? identity;
  const unmapItem = input.unmapItem ?? identity;
  for (const [name, fn] of [
    ['mapKey', mapKey],
    ['mapItem', mapItem],
    ['unmapItem', unmapItem],
  ] as const) {
    if (typeof fn !== 'function') throw new MigrationDefinitionError(id, `${name} must be a function`);
  }

  // mapKey: legacy key attributes only, output exactly the new key, deterministic, injective on probes.
  const a = probeMapKey(id, input.legacyTable.key, mapKey, 1);
  const problem = keyProblem(a, input.newTable.key);
  if (problem)
    throw new MigrationDefinitionError(
      id,
      `mapKey result ${problem} (new table key: ${keyNames(input.newTable.key).join(', ')})`,
    );
  if (!itemsEqual(a, probeMapKey(id, input.legacyTable.key, mapKey, 1))) {
    throw new MigrationDefinitionError(
      id,
      'mapKey is not deterministic: the same legacy key mapped to two new keys',
    );
  }
  if (itemsEqual(a, probeMapKey(id, input.legacyTable.key, mapKey, 2))) {
    throw new MigrationDefinitionError(id, 'mapKey maps two different legacy keys to the same new key');
  }

  const read: ReadSettings = {
    stalenessBudgetMs: 5000,
    defaultConsistency: ConsistencyMode.BOUNDED,
    routingKeyHeader: 'x-routing-key',
    shadowSampleRate: 0.05,
    cohortSalt: id,
    controlCacheMs: 1000,
    clockSkewMs: 1000,
    indexPropagationMarginMs: 1000,
    ...input.read,
  };
  checkRanges(id, 'read', read, READ_RANGES);
  if (!MODES.includes(read.defaultConsistency)) {
    throw new MigrationDefinitionError(
      id,
      `read.defaultConsistency must be one of ${MODES.join(', ')}, not "${read.defaultConsistency}"`,
    );
  }
  if (read.defaultConsistency === ConsistencyMode.NEW) {
    throw new MigrationDefinitionError(
      id,
      'read.defaultConsistency cannot be "new": mode new serves the new table without a freshness check, ' +
        'so it may only be asked for per request (X-Consistency: new); use "bounded" (the default) or a stricter mode',
    );
  }
  if (read.controlCacheMs >= read.stalenessBudgetMs && read.stalenessBudgetMs > 0) {
    throw new MigrationDefinitionError(
      id,
      'read.controlCacheMs must be smaller than read.stalenessBudgetMs (the cache counts against the budget)',
    );
  }
  const backfill: BackfillSettings = {
    segments: 4,
    pageSize: 100,
    rateLimitPerSecond: 0,
    capacityShare: 0.5,
    onDemandRatePerSecond: 1_000,
    ...input.backfill,
  };
  checkRanges(id, 'backfill', backfill, BACKFILL_RANGES);
  const verification: VerificationSettings = {
    schedule: 'cron(0 3 * * ? *)',
    timeZone: 'UTC',
    repair: false,
    ...input.verification,
  };
  if (!/^(cron|rate|at)\(.+\)$/.test(verification.schedule)) {
    throw new MigrationDefinitionError(
      id,
      `verification.schedule "${verification.schedule}" must be cron(...), rate(...) or at(...)`,
    );
  }

  checkIndexes(id, 'legacyTable', input.legacyTable);
  checkIndexes(id, 'newTable', input.newTable);
  const queries = resolveSurfaces(
    { id, legacyTable: input.legacyTable, newTable: input.newTable, mapKey },
    input.queries,
  );
  checkUnusedIndexes(id, input.legacyTable, queries);
  const guardrails: GuardrailSettings = { ...DEFAULT_GUARDRAILS, ...input.guardrails };
  checkRanges(id, 'guardrails', guardrails, GUARDRAIL_RANGES);
  for (const phase of guardrails.approvalFor) {
    if (!APPROVABLE.includes(phase))
      throw new MigrationDefinitionError(
        id,
        `guardrails.approvalFor names "${phase}"; use phases after LEGACY_ONLY: ${APPROVABLE.join(', ')}`,
      );
  }

  const migration: Migration = {
    id,
    legacyTable: input.legacyTable,
    newTable: { create: true, ...input.newTable, indexes: input.newTable.indexes ?? [] },
    queries,
    mapKey,
    mapItem,
    unmapItem,
    metadataPrefix,
    read,
    backfill,
    verification,
    guardrails,
  };
  for (const [i, sample] of (input.samples ?? []).entries()) checkSample(migration, sample, i);
  checkSurfacesOnSamples({ id, mapItem, unmapItem, samples: input.samples ?? [] }, queries);
  return migration;
}

/** Checks one representative item: key consistency, no metadata attributes, exact inverse. */
function checkSample(m: Migration, sampleInput: Item, index: number): void {
  const where = `samples[${index}]`;
  let sample: Item;
  try {
    sample = assertItem(sampleInput, where);
  } catch (err) {
    throw new MigrationDefinitionError(m.id, (err as InvalidValueError).message);
  }
  const legacyKey = keyOf(sample, m.legacyTable.key);
  const lp = keyProblem(legacyKey, m.legacyTable.key);
  if (lp) throw new MigrationDefinitionError(m.id, `${where} ${lp} (legacy table key)`);
  const mapped = m.mapItem(sample);
  const reserved = Object.keys(mapped).filter((n) => n.startsWith(m.metadataPrefix));
  if (reserved.length) {
    throw new MigrationDefinitionError(
      m.id,
      `mapItem writes ${reserved.map((n) => `"${n}"`).join(', ')}, which use the reserved metadata prefix "${m.metadataPrefix}"`,
    );
  }
  const expectedKey = m.mapKey(legacyKey);
  if (!itemsEqual(keyOf(mapped, m.newTable.key), expectedKey)) {
    throw new MigrationDefinitionError(
      m.id,
      `on ${where}, mapItem produced key ${canonicalItem(keyOf(mapped, m.newTable.key))} but mapKey gives ${canonicalItem(expectedKey)}; they must agree`,
    );
  }
  const back = m.unmapItem(mapped);
  if (!itemsEqual(back, sample)) {
    throw new MigrationDefinitionError(
      m.id,
      `on ${where}, unmapItem(mapItem(item)) differs from the item: got ${canonicalItem(back)}, expected ${canonicalItem(sample)}`,
    );
  }
}

/**
 * Validates a set of migrations deployed together: ids and tables must be distinct.
 *
 * @throws MigrationDefinitionError on a duplicate id or a table used twice
 */
export function validateMigrationSet(migrations: readonly Migration[]): readonly Migration[] {
  if (migrations.length === 0)
    throw new MigrationDefinitionError('?', 'the definitions file defines no migration');
  const ids = new Set<string>();
  const tables = new Map<string, string>();
  for (const m of migrations) {
    if (ids.has(m.id))
      throw new MigrationDefinitionError(m.id, 'the id is defined twice; migration ids must be unique');
    ids.add(m.id);
    for (const t of [m.legacyTable.tableName, m.newTable.tableName]) {
      const other = tables.get(t);
      if (other !== undefined) {
        throw new MigrationDefinitionError(m.id, `table "${t}" is already used by migration "${other}"`);
      }
      tables.set(t, m.id);
    }
  }
  return migrations;
}
