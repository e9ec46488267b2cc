/**
 * The backfill: segment checkpoints and resume, the mapping of a scanned item (and why it may be
 * poison), foreign items in the new table, poison items and what makes a backfill complete.
 */
export * from './checkpoint';
export * from './errors';
export * from './foreign';
export * from './map';
export * from './poison';
