/**
 * Shared helpers of every capability: the base error class and the retry backoff.
 */
export * from './backoff';
export * from './errors';
export * from './retry';
