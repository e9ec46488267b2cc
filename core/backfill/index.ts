/**
 * The backfill: a run's settings and the decisions of its steps (start, segment loop, finish), segment
 * checkpoints and resume, the mapping of a scanned item (and why it may be poison), what a write's
 * outcome counts as, foreign items in the new table, poison items, the operator's operations on them
 * and what makes a backfill complete.
 */
export * from './checkpoint';
export * from './errors';
export * from './finish';
export * from './foreign';
export * from './map';
export * from './poison';
export * from './rate';
export * from './poison-operation';
export * from './run';
export * from './segment-loop';
export * from './write-outcome';
