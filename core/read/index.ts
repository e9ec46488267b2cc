/**
 * The dual-read path: the routing decision, its freshness terms and breaker admission, consistency
 * modes, cohorts, the circuit breaker, query mapping, page tokens and shadow comparison.
 */
export * from './admission';
export * from './breaker';
export * from './cohort';
export * from './consistency';
export * from './freshness';
export * from './page-token';
export * from './pins';
export * from './query-mapping';
export * from './routing';
export * from './shadow';
export * from './surface-query';
