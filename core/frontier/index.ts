/**
 * The frontier: the math of `F` from per-shard evidence, the ledger of records read and their
 * evidence, tip detection, waivers, and the tracker that reads the stream and publishes `F`.
 */
export * from './errors';
export * from './gap';
export * from './ledger';
export * from './math';
export * from './ports';
export { type EvidenceCandidate, Evidence, type TrackedRecordInput } from './records';
export { type PersistedShard, ShardLedger } from './shard-ledger';
export * from './tip';
export * from './tracker';
export * from './tracker-config';
export { FrontierViolation } from './violations';
export * from './waiver';
