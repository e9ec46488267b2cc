/**
 * The `dualread` binary as a child process (tsx over bin/dualread.ts, no colours): its exit code,
 * stdout and stderr, whatever the exit code.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

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
