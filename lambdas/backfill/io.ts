/**
 * The backfill's table I/O over one DynamoDB client, wired the same way for the deployed functions
 * (`deps.ts`) and for local mode and tests (`local/backfill.ts`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  IfAbsentWriter,
  ThrottleCounter,
  type WriteMode,
  findForeignItems,
  realRetryTiming,
  scanSegmentPage,
  tableCapacity,
  tableStatus,
} from '../../adapters/backfill-io';
import { PoisonRegistry } from '../../adapters/poison-registry';
import { KeyReader } from '../../adapters/verify-io';
import { metadataNames, type Migration, keyNames } from '../../core/model';
import type { BackfillDeps } from './context';

/** Options of `backfillIo`. */
export interface BackfillIoOptions {
  readonly client: DynamoDBClient;
  readonly migration: Migration;
  readonly legacyTableName: string;
  readonly newTableName: string;
  readonly controlTableName: string;
  readonly writeMode: WriteMode;
  readonly writeConcurrency: number;
  readonly now: () => number;
}

/** The I/O part of `BackfillDeps`. */
export function backfillIo(
  o: BackfillIoOptions,
): Pick<
  BackfillDeps,
  | 'newTableStatus'
  | 'tableCapacity'
  | 'findForeignItems'
  | 'scanPage'
  | 'writer'
  | 'throttles'
  | 'poison'
  | 'readLegacy'
  | 'readNew'
> {
  // Every throttled retry of the legacy Scan and the new-table writes is counted: the page worker
  // lowers the run's rate on it (core/backfill/rate.ts).
  const throttles = new ThrottleCounter();
  const timing = { ...realRetryTiming, onRetry: throttles.count };
  const seqAttribute = metadataNames(o.migration.metadataPrefix).seq;
  const newKeyNames = keyNames(o.migration.newTable.key);
  const newTable = new KeyReader(o.client, o.newTableName, newKeyNames, { timing: realRetryTiming });
  const legacyTable = new KeyReader(o.client, o.legacyTableName, keyNames(o.migration.legacyTable.key), {
    timing: realRetryTiming,
  });
  return {
    poison: new PoisonRegistry(o.client, o.controlTableName, o.migration.id),
    readLegacy: (key) => legacyTable.get(key, true),
    readNew: (key) => newTable.get(key, true),
    newTableStatus: () => tableStatus(o.client, o.newTableName),
    tableCapacity: (which) =>
      tableCapacity(o.client, which === 'legacy' ? o.legacyTableName : o.newTableName),
    throttles,
    findForeignItems: (limit, budgetMs) =>
      findForeignItems(o.client, o.newTableName, {
        seqAttribute,
        keyNames: newKeyNames,
        limit,
        budgetMs,
        now: o.now,
      }),
    scanPage: (args) => scanSegmentPage(o.client, o.legacyTableName, args, timing),
    writer: new IfAbsentWriter(o.client, o.newTableName, {
      seqAttribute,
      mode: o.writeMode,
      concurrency: o.writeConcurrency,
      transactionSize: 100,
      keyNames: newKeyNames,
      existing: (keys) => newTable.batchGet(keys, true),
      timing,
    }),
  };
}
