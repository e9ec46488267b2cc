/**
 * Shared by the CLI tests: the `dualread` binary as a child process (tsx over bin/dualread.ts, no
 * colours), the program in process with captured output, a definitions file and the runners bound to
 * it, and a local CDC heartbeat.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ControlStore } from '../../adapters/control-store';
import { runCli } from '../../cli/program';
import { ControlKey } from '../../core/control';
import { testEndpoint } from './dynamo';

const run = promisify(execFile);
export const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin', 'dualread.ts');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** Runs `dualread <args>` from the repository root. */
export async function runDualread(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What one invocation printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `runCli` with `global` before the arguments, output captured (not a TTY, no colours). */
export function inProcessCli(global: readonly string[]): (...args: string[]) => Promise<CliRun> {
  return async (...args) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli([...global, ...args], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      isTTY: false,
      env: {},
    });
    return { code, stdout, stderr };
  };
}

/**
 * The local stream poller's `CDC#CONSUMER` heartbeat on `streamArn`, fresh for ten minutes: it stands
 * in for the poller in tests that need "CDC consuming" without running CDC.
 */
export async function pollerHeartbeat(store: ControlStore, streamArn: string): Promise<void> {
  await store.putUnversioned(ControlKey.CDC_CONSUMER, {
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    state: 'Enabled',
    since: Date.now(),
    heartbeatAt: Date.now() + 600_000,
    lastProcessingResult: 'OK',
    iteratorAgeMs: 0,
  });
}

/** The two ways of running `dualread` with `global` options first. */
export function cliRunner(global: readonly string[]): {
  dualread(...args: string[]): Promise<CliRun>;
  inProcess(...args: string[]): Promise<CliRun>;
} {
  return { dualread: (...args) => runDualread([...global, ...args]), inProcess: inProcessCli(global) };
}

/** A test's definitions file (not written yet) in a fresh temporary folder, and the runners bound to it. */
export interface CliTarget {
  /** The temporary folder. */
  readonly dir: string;
  /** `<dir>/migrations.ts`, for the test to write. */
  readonly definitions: string;
  /** `--endpoint` (DynamoDB Local), `--definitions` and `--control-table`. */
  readonly global: readonly string[];
  /** The binary as a child process, `global` first. */
  dualread(...args: string[]): Promise<CliRun>;
  /** The program in process, `global` first. */
  inProcess(...args: string[]): Promise<CliRun>;
}

/** A fresh `dualread-<tag>-` folder for the definitions, and `dualread` pointed at it, DynamoDB Local and `control`. */
export function cliTarget(tag: string, control: string): CliTarget {
  const dir = mkdtempSync(join(tmpdir(), `dualread-${tag}-`));
  const definitions = join(dir, 'migrations.ts');
  const endpoint = testEndpoint().endpoint as string;
  const global = ['--endpoint', endpoint, '--definitions', definitions, '--control-table', control];
  return { dir, definitions, global, ...cliRunner(global) };
}

/**
 * The source of a definitions file declaring the `orders` migration from `legacy` to `fresh`, both keyed
 * by the string `id`, with guardrails that need no soak and one clean verification, and `more` fields.
 */
export function ordersDefinitions(legacy: string, fresh: string, more = ''): string {
  return `import { defineMigration } from ${JSON.stringify(join(ROOT, 'core/model'))};
export const migrations = [defineMigration({
  id: 'orders',
  legacyTable: { tableName: ${JSON.stringify(legacy)}, key: { partitionKey: { name: 'id', type: 'S' } } },
  newTable: { tableName: ${JSON.stringify(fresh)}, key: { partitionKey: { name: 'id', type: 'S' } } },
${more}  guardrails: { soakMs: 0, cleanVerifications: 1 },
})];
`;
}
