/** Deployed entry of the sync Lambda: the factory over dependencies built from the environment. */
import { buildSyncDeps } from './deps';
import { makeSyncHandler } from './handler';
import { Service, withColdStartMetric } from '../common/observability';

export const handler = withColdStartMetric(Service.SYNC, makeSyncHandler(buildSyncDeps()));
