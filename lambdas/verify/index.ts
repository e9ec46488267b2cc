/**
 * Deployed entry of the verification functions: one bundle, four handlers (`control`, `scan`,
 * `recheck`, `repair`), each deployed as its own function with its own role (lib/verification.ts).
 */
import { buildVerifyDeps } from './deps';
import { makeVerifyControlHandler } from './control';
import { makeVerifyRecheckHandler } from './recheck';
import { makeVerifyRepairHandler } from './repair';
import { makeVerifyScanHandler } from './scan';

const deps = buildVerifyDeps();
export const control = makeVerifyControlHandler(deps);
export const scan = makeVerifyScanHandler(deps);
export const recheck = makeVerifyRecheckHandler(deps);
export const repair = makeVerifyRepairHandler(deps);
