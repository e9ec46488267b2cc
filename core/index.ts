/**
 * dualread's pure core, one folder per capability; each folder's `index.ts` is its public surface.
 * Nothing here imports the AWS SDK, reads the environment or the clock.
 */
export * from './common';
export * from './model';
export * from './control';
export * from './cdc';
export * from './frontier';
export * from './backfill';
export * from './verify';
export * from './read';
