import { migrations } from 'dualread-definitions';
import { buildReadDeps } from './deps';
import { makeReadHandler } from './handler';
import { Service, withColdStartMetric } from '../common/observability';

export const handler = withColdStartMetric(Service.READ, makeReadHandler(buildReadDeps(migrations)));
