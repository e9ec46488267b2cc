/** Deployed entry of the sync Lambda: the factory over dependencies built from the environment. */
import { buildSyncDeps } from './deps';
import { makeSyncHandler } from './handler';

export const handler = makeSyncHandler(buildSyncDeps());
