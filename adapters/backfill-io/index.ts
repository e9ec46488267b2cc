/**
 * The backfill's table I/O, one module per concern: the reads (`scan.ts`: a parallel Scan page, the
 * new table's status, the search for foreign items) and the writer (`writer.ts`) with its three write
 * modes (`partiql.ts`, `put.ts`, `transact.ts`). The DynamoDB retry and the pool (adapters/retry.ts)
 * are re-exported for the importers that take them from here.
 */
export * from '../retry';
export {
  BatchStatementError,
  MAX_BATCH_STATEMENTS,
  StatementErrorKind,
  batchesWithDistinctKeys,
  classifyStatementError,
  insertStatement,
  partiqlString,
  partiqlTable,
} from './partiql';
export * from './scan';
export { type IfAbsentWriterOptions, WriteMode } from './write-context';
export { IfAbsentWriter } from './writer';
export type { WriteOutcome } from '../../core/backfill';
