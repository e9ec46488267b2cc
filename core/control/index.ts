/**
 * The control table's model: phases, the STATE/FRONTIER/AUDIT shapes and their exact codec, and the
 * run controls (lock with lease, pause and rate) that the backfill and verification share.
 */
export * from './codec';
export * from './run-input';
export * from './run-lock';
export * from './run-rate';
export * from './state';
