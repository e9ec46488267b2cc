/**
 * Deployed entry of the verification functions: one bundle, four handlers (`control`, `scan`,
 * `recheck`, `repair`), each deployed as its own function with its own role (lib/verification.ts).
 */
import { buildVerifyDeps } from './deps';
import { makeVerifyControlHandler } from './control';
import { makeVerifyRecheckHandler } from './recheck';
import { makeVerifyRepairHandler } from './repair';
import { makeVerifyScanHandler } from './scan';
import { Service, withColdStartMetric } from '../common/observability';

const deps = buildVerifyDeps();
export const control = withColdStartMetric(Service.VERIFY, makeVerifyControlHandler(deps));
export const scan = withColdStartMetric(Service.VERIFY, makeVerifyScanHandler(deps));
export const recheck = withColdStartMetric(Service.VERIFY, makeVerifyRecheckHandler(deps));
export const repair = withColdStartMetric(Service.VERIFY, makeVerifyRepairHandler(deps));
