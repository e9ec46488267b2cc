export * from './control';
export * from './control-codec';
export * from './errors';
export * from './metadata';
export * from './migration';
export * from './values';
export * from './stream-change';
export * from './stream-dead-letter';
export * from './dead-letter-replay';
export * from './apply-rule';
export * from './backfill-checkpoint';
export * from './backfill-errors';
export * from './backfill-lock';
export * from './backfill-map';
export * from './backfill-poison';
export * from './backfill-foreign';
export * from './backfill-rate';
export * from './backoff';
export * from './cdc-status';
export * from './mapped-key';
export * from './progress-marker';
export * from './breaker';
export * from './cohort';
export * from './consistency';
export * from './page-token';
export * from './plain-json';
export * from './retry';
export * from './routing';
export * from './shadow-diff';
export * from './frontier';
export * from './frontier-ledger';
export * from './frontier-tip';
export * from './frontier-tracker';
export * from './waiver';
// core/shadow-diff.ts (read path) exports its own DiffClass; verification's is re-exported as ItemDiffClass.
export {
  DiffClass as ItemDiffClass,
  DIFF_CLASSES,
  DRIFT_CLASSES,
  addCounts,
  classifyLegacy,
  classifyPair,
  expectedNewItem,
  isDrift,
  zeroCounts,
  type ClassCounts,
  type Expected,
} from './diff';
export * from './checksum';
export * from './verify-checkpoint';
export * from './verify-recheck';
export * from './verify-report';
export * from './verify-errors';
export * from './repair';
