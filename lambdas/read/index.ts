import { migrations } from 'dualread-definitions';
import { buildReadDeps } from './deps';
import { makeReadHandler } from './handler';

export const handler = makeReadHandler(buildReadDeps(migrations));
