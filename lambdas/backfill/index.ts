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

const deps = buildBackfillDeps();
export const preflight = makePreflightHandler(deps);
export const controls = makeControlsHandler(deps);
export const page = makePageHandler(deps);
export const finish = makeFinishHandler(deps);
export const poison = makePoisonHandler(deps);
