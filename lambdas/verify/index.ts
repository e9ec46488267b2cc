/**
 * Deployed entry of the verification functions: one bundle, four handlers (`control`, `scan`,
 * `recheck`, `repair`), each deployed as its own function with its own role (lib/verification.ts).
 */
import { buildVerifyDeps } from './deps';
import {
  makeVerifyControlHandler,
  makeVerifyRecheckHandler,
  makeVerifyRepairHandler,
  makeVerifyScanHandler,
} from './handler';

const deps = buildVerifyDeps();
export const control = makeVerifyControlHandler(deps);
export const scan = makeVerifyScanHandler(deps);
export const recheck = makeVerifyRecheckHandler(deps);
export const repair = makeVerifyRepairHandler(deps);
