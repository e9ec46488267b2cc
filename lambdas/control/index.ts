/** Deployed entry of the control Lambda: the factory over dependencies built from the environment. */
import { migrations } from 'dualread-definitions';
import { buildControlDeps } from './deps';
import { makeControlHandler } from './handler';

export const handler = makeControlHandler(buildControlDeps(migrations));
