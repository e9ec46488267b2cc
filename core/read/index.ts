/**
 * The dual-read path: the routing decision, consistency modes, cohorts, the circuit breaker, page
 * tokens and shadow comparison.
 */
export * from './breaker';
export * from './cohort';
export * from './consistency';
export * from './page-token';
export * from './routing';
export * from './shadow';
