#!/usr/bin/env -S npx tsx
/**
 * The `dualread` CLI entry: builds the program (cli/program.ts) and exits with its code
 * (cli/exit-codes.ts). `npm run dualread -- <command>`, or `npx dualread <command>`.
 */
import { runCli } from '../cli/program';

void runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
