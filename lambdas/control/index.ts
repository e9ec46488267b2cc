/** Deployed entry of the control Lambda: the factory over dependencies built from the environment. */
import { migrations } from 'dualread-definitions';
import { buildControlDeps } from './deps';
import { makeControlHandler } from './handler';
import { Service, withColdStartMetric } from '../common/observability';

export const handler = withColdStartMetric(Service.CONTROL, makeControlHandler(buildControlDeps(migrations)));
