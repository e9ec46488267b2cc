/**
 * `npm start`: rehearses a whole live migration on DynamoDB Local (see local/rehearsal/rehearse.ts) and
 * exits non-zero unless every invariant held. `npm start -- --help` lists the options. The CLI's
 * `dualread rehearse` (cli/commands/rehearse.ts) runs the same code.
 */
import '../promise-polyfill';
import { Command, CommanderError } from 'commander';
import { type RehearseOptions, rehearsalOptions, runRehearsal } from './options';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(argv: readonly string[]): Promise<number> {
  const program = rehearsalOptions(
    new Command('rehearse')
      .description('rehearse a live migration on DynamoDB Local, check every invariant, and write a report')
      .exitOverride(),
  );
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return runRehearsal(program.opts<RehearseOptions>());
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`${e.name ?? 'Error'}: ${e.message}\n`);
    process.exit(2);
  },
);
