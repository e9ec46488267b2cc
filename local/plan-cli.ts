/**
 * TEMPORARY entry for `dualread plan` until the CLI (cli/program.ts) lands: the lead removes this file
 * at merge and registers cli/commands/plan.ts there. `npx tsx local/plan-cli.ts plan --items 1000000000
 * --item-size 1024`.
 */
import { Command } from 'commander';
import { register } from '../cli/commands/plan';

const program = new Command('dualread');
let exitCode = 0;
register(program, {
  action:
    (body) =>
    async (...args: unknown[]) => {
      try {
        await (body as unknown as (cmd: Command) => Promise<number | void>)(args[args.length - 1] as Command);
      } catch (err) {
        console.error(`${(err as Error).name}: ${(err as Error).message}`);
        exitCode = 2;
      }
    },
  output: () => ({ result: (_value, human) => console.log(human()) }),
});
program.parseAsync(process.argv).then(
  () => process.exit(exitCode),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
