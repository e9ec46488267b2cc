/** Deployed entry of the frontier tracker Lambda: the factory over dependencies built from the environment. */
import { buildFrontierDeps } from './deps';
import { makeFrontierHandler } from './handler';

export const handler = makeFrontierHandler(buildFrontierDeps());
