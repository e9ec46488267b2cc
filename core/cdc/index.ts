/**
 * Change data capture: the apply rule (conditional writes and tombstones), stream changes, the
 * progress markers the sync Lambda leaves for the frontier tracker, the "CDC consuming" check, and
 * dead-lettered batches and their replay.
 */
export * from './apply-rule';
export * from './coalesce';
export * from './consuming';
export * from './dead-letter';
export * from './dead-letter-replay';
export * from './order-violations';
export * from './progress-marker';
export * from './stream-change';
