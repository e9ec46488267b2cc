/**
 * One short rehearsal with faults on the shared DynamoDB Local, for the fault matrix
 * (test/integration/faults/*.test.ts): small counts, the whole walk, the report with its fault table.
 */
import '../../local/promise-polyfill';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { usersMigration } from '../../examples/users/migration';
import type { FaultSettings } from '../../local/faults';
import type { RehearsalReport } from '../../local/rehearsal/recorder';
import { rehearse } from '../../local/rehearsal/rehearse';
import { withTablePrefix } from '../../local/rehearsal/setup';
import { testEndpoint, uniqueName } from './dynamo';

/** Runs the short walk with `faults`; `seed` fixes the workload and the fault draws. */
export async function faultRehearsal(faults: FaultSettings, seed = 11): Promise<RehearsalReport> {
  const prefix = `${uniqueName('flt')}-`;
  return rehearse({
    migration: withTablePrefix(usersMigration, prefix),
    endpoint: testEndpoint(),
    controlTableName: `${prefix}control`,
    items: 800,
    writeRate: 40,
    readRate: 40,
    dwellMs: 1500,
    seed,
    faults,
    onEvent: eventLog(prefix),
  });
}

/**
 * With `DUALREAD_TEST_EVENTS=<dir>`, each walk appends its events, timed, to `<dir>/<prefix>log`: the
 * only trace of a walk that runs past its test's timeout (its report never comes back).
 */
function eventLog(prefix: string): ((line: string) => void) | undefined {
  const dir = process.env.DUALREAD_TEST_EVENTS;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}log`);
  const t0 = Date.now();
  return (line) => appendFileSync(file, `${((Date.now() - t0) / 1000).toFixed(1)} ${line}\n`);
}

/** Every failed invariant with its first examples, for a failure message that says what broke. */
export function failedChecks(report: RehearsalReport): string[] {
  return report.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.examples.join('\n')}`);
}
