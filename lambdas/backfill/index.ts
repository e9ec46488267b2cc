/**
 * Deployed entry of the backfill functions: one bundle, five handlers (`preflight`, `controls`,
 * `page`, `finish` of the state machine, and `poison`, which operators invoke), each deployed as its
 * own function (lib/backfill.ts sets `handler`).
 */
import { buildBackfillDeps } from './deps';
import { makeControlsHandler } from './controls';
import { makeFinishHandler } from './finish';
import { makePageHandler } from './page';
import { makePoisonHandler } from './poison';
import { makePreflightHandler } from './preflight';
import { Service, withColdStartMetric } from '../common/observability';

const deps = buildBackfillDeps();
export const preflight = withColdStartMetric(Service.BACKFILL, makePreflightHandler(deps));
export const controls = withColdStartMetric(Service.BACKFILL, makeControlsHandler(deps));
export const page = withColdStartMetric(Service.BACKFILL, makePageHandler(deps));
export const finish = withColdStartMetric(Service.BACKFILL, makeFinishHandler(deps));
export const poison = withColdStartMetric(Service.BACKFILL, makePoisonHandler(deps));
