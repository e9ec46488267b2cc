/**
 * `dualread rehearse`: rehearses a whole live migration on DynamoDB Local (local/rehearsal/), checks
 * every invariant against the recorded history, and writes the HTML and JSON report. Exit code 0 when
 * every invariant held, 1 when one failed (the summary names the key and history excerpt), 2 on a bad
 * option or set-up error. `npm start` runs it on the example migration.
 */
import type { Command } from 'commander';
import { type RehearseOptions, rehearsalOptions, runRehearsal } from '../../local/rehearsal/options';

/** What the CLI hands every command (the CLI framework may pass more). */
export interface RehearseCommandContext {
  /** Where the summary goes. @default process.stdout */
  readonly out?: NodeJS.WriteStream;
  /** Sets the process exit code. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
}

/** Registers `rehearse` on the CLI program. */
export function register(program: Command, context: RehearseCommandContext = {}): Command {
  return rehearsalOptions(
    program
      .command('rehearse')
      .description('rehearse a live migration on DynamoDB Local, check every invariant, write a report'),
  ).action(async (_own: RehearseOptions, cmd: Command) => {
    // `dualread` also has global --migration (an id) and --json: commander gives them to the program
    // wherever they stand, so rehearse reads its options together with the globals it shares.
    const options = cmd.optsWithGlobals<RehearseOptions>();
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    await import('../../local/promise-polyfill');
    const code = await runRehearsal(options, context.out ?? process.stdout);
    if (context.setExitCode) context.setExitCode(code);
    else process.exitCode = code;
  });
}
