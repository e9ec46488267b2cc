/**
 * Builds the `dualread` program: the global options, then every command module of `commands/` (each
 * `register(program, context)`), and runs it to an exit code. `bin/dualread.ts` only calls `runCli`.
 */
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS } from './commands';
import { CliContext } from './context';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import { type CliIo, Output, processIo } from './output';
import { DEFAULT_DEFINITIONS, DEFAULT_LOCAL_CONTROL_TABLE } from './target';

/** The program with its commands registered on `context`. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('dualread')
    .description('Moves a dualread migration through its phases under guardrails, and shows where it stands.')
    .option('--json', 'print results (and errors) as JSON on stdout')
    .option('--endpoint <url>', 'local mode: DynamoDB Local at this URL (e.g. http://localhost:8000)')
    .option('--env <name>', 'AWS: the deployed stack DualRead-<name>')
    .option('--region <region>', 'AWS region (default: the SDK default chain)')
    .option('--definitions <file>', `definitions file (default: ${DEFAULT_DEFINITIONS})`)
    .option('--migration <id>', 'migration id (default: the only one in the definitions)')
    .addOption(
      new Option(
        '--control-table <name>',
        `control table (local default: ${DEFAULT_LOCAL_CONTROL_TABLE}; AWS: the stack output)`,
      ),
    )
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (t) => context.io.stdout(t),
      // Commander's own messages (unknown option, missing argument) go through our printer.
      writeErr: () => undefined,
    });
  for (const register of COMMANDS) register(program, context);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs `argv` (without node and script) and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo(),
  now: () => number = Date.now,
): Promise<number> {
  const context = new CliContext(io, now);
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return ExitCode.OK; // --help, --version
      const json = argv.includes('--json');
      new Output(io, json).error({
        name: 'UsageError',
        message: `${err.message.replace(/^error: /, '')} (see \`dualread --help\` or \`dualread <command> --help\`)`,
        exitCode: ExitCode.USAGE,
      });
      return ExitCode.USAGE;
    }
    context.fail(program, err instanceof Error ? err : new UsageError(String(err)));
  }
  return context.exitCode;
}
