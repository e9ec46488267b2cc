/**
 * The frontier: the math of `F` from per-shard evidence, the ledger of records read and their
 * evidence, tip detection, waivers, and the tracker that reads the stream and publishes `F`.
 */
export * from './ledger';
export * from './math';
export * from './tip';
export * from './tracker';
export * from './waiver';
