/**
 * What every command module gets: the resolved target (once per invocation), the output, and
 * `action`, which wraps a command's body so that every failure goes through the one error printer
 * and sets the documented exit code.
 */
import type { Command } from 'commander';
import { describeError } from './errors';
import { ExitCode, exitCodeOf } from './exit-codes';
import { type CliIo, Output } from './output';
import { type GlobalOptions, type Target, resolveTarget } from './target';

/** Shared by every command of one invocation. */
export class CliContext {
  exitCode: number = ExitCode.OK;
  private target?: Promise<Target>;
  private out?: Output;

  constructor(
    readonly io: CliIo,
    readonly now: () => number = Date.now,
    private readonly resolver: (o: GlobalOptions, now: () => number) => Promise<Target> = resolveTarget,
  ) {}

  /** The global options of `cmd` (set on the root program). */
  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  /** The output of this invocation (JSON with --json). */
  output(cmd: Command): Output {
    this.out ??= new Output(this.io, this.globals(cmd).json === true);
    return this.out;
  }

  /** The target of this invocation, resolved once. */
  resolve(cmd: Command): Promise<Target> {
    this.target ??= this.resolver(this.globals(cmd), this.now);
    return this.target;
  }

  /** Wraps a command's body: its failure is printed with its fix and sets the exit code. */
  action<A extends unknown[]>(
    body: (cmd: Command, ...args: A) => Promise<number | void>,
  ): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      try {
        const code = await body(cmd, ...(args.slice(0, -1) as A));
        this.exitCode = code ?? ExitCode.OK;
      } catch (err) {
        this.fail(cmd, err);
      }
    };
  }

  /** `action` for a body that works on the target: the target is resolved, and the output made, first. */
  onTarget<A extends unknown[]>(
    body: (target: Target, out: Output, cmd: Command, ...args: A) => Promise<number | void>,
  ): (...args: unknown[]) => Promise<void> {
    return this.action<A>(async (cmd, ...args) => {
      const target = await this.resolve(cmd);
      return body(target, this.output(cmd), cmd, ...args);
    });
  }

  /** Prints `err` and sets its exit code. */
  fail(cmd: Command, err: unknown): void {
    this.exitCode = exitCodeOf(err);
    this.output(cmd).error(describeError(err, this.exitCode));
  }
}
