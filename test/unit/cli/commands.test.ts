import { runCli } from '../../../cli/program';
import type { CliIo } from '../../../cli/output';

/** An io that records what the CLI printed. */
function recordingIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false, env: {} };
}

describe('dualread commands registered beside the control plane', () => {
  it('runs plan from flags and prints its result as JSON with --json', async () => {
    // Arrange
    const io = recordingIo();

    // Act
    const code = await runCli(['plan', '--items', '1000000', '--item-size', '1024', '--json'], io);

    // Assess
    expect(code).toBe(0);
    const plan = JSON.parse(io.out.join('')) as { input: { items: number; itemSizeBytes: number } };
    expect(plan.input).toMatchObject({ items: 1_000_000, itemSizeBytes: 1024 });
  });

  it('gives rehearse the --migration it was given (a definitions file), not the global migration id', async () => {
    // Arrange
    const io = recordingIo();

    // Act: a file that does not exist fails before anything starts, naming the file
    const code = await runCli(['rehearse', '--migration', '/nonexistent/migrations.ts', '--json'], io);

    // Assess
    expect(code).not.toBe(0);
    expect(io.out.join('') + io.err.join('')).toContain('/nonexistent/migrations.ts');
  });
});
