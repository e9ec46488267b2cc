/**
 * Running `dualread` in tests: the real binary as a child process (`dualread`), and the same program in
 * process with captured output (`inProcess`, no process start per command), both with `global` options
 * (target, definitions, control table) first.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/program';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin', 'dualread.ts');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** What one invocation printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The two ways of running `dualread` with `global` options. */
export function cliRunner(global: readonly string[]): {
  dualread(...args: string[]): Promise<CliRun>;
  inProcess(...args: string[]): Promise<CliRun>;
} {
  return {
    async dualread(...args) {
      try {
        const { stdout, stderr } = await run(TSX, [BIN, ...global, ...args], {
          cwd: ROOT,
          env: { ...process.env, NO_COLOR: '1' },
        });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    async inProcess(...args) {
      let stdout = '';
      let stderr = '';
      const code = await runCli([...global, ...args], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        isTTY: false,
        env: {},
      });
      return { code, stdout, stderr };
    },
  };
}
