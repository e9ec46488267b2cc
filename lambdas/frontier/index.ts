/** Deployed entry of the frontier tracker Lambda: the factory over dependencies built from the environment. */
import { buildFrontierDeps } from './deps';
import { makeFrontierHandler } from './handler';
import { Service, withColdStartMetric } from '../common/observability';

export const handler = withColdStartMetric(Service.FRONTIER, makeFrontierHandler(buildFrontierDeps()));
