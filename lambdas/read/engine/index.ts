/**
 * The read engine: executes routing decisions (core/read) against the two stores with per-store
 * timeouts, bounded retries, a hedged read to legacy, the new store's circuit breaker, shadow compare
 * and strong comparison. One `MigrationReader` per migration per execution environment.
 */
export { MigrationReader } from './reader';
export {
  DEFAULT_READ_OPTIONS,
  type KeyResult,
  type PageResult,
  type ReadOptions,
  type ReadTarget,
  type RequestContext,
} from './types';
