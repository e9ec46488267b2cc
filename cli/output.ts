/**
 * The one output path of every command: `--json` prints the result as JSON on stdout (errors too, as
 * `{"error": ...}`), otherwise human text; colours only when stdout is a TTY and `NO_COLOR` is unset.
 */
import pc from 'picocolors';
import type { Guardrail } from '../core/control';
import type { PrintedError } from './errors';

/** Where output goes (the process's streams, or a test's buffers). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** The process's streams. */
export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  };
}

export type Colors = ReturnType<typeof pc.createColors>;

/** Prints results and errors for one invocation. */
export class Output {
  readonly c: Colors;

  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {
    this.c = pc.createColors(io.isTTY && !json && !io.env.NO_COLOR);
  }

  /** Prints a result: `value` as JSON with --json, else `human()`. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    else this.io.stdout(`${human()}\n`);
  }

  /** One line of a stream of results (`--watch --json` prints one JSON document per line). */
  line(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value)}\n`);
    else this.io.stdout(`${human()}\n`);
  }

  /** Prints a failure: its name, message and guardrails. */
  error(e: PrintedError): void {
    if (this.json) {
      this.io.stdout(`${JSON.stringify({ error: e }, null, 2)}\n`);
      return;
    }
    this.io.stderr(`${this.c.red(this.c.bold(e.name))}: ${e.message}\n`);
    if (e.guardrails) this.io.stderr(`${this.guardrails(e.guardrails)}\n`);
  }

  /** Guardrails, one per line: ✓/✗, id, reason. */
  guardrails(list: readonly Guardrail[]): string {
    return list
      .map(
        (g) => `  ${g.met ? this.c.green('✓') : this.c.red('✗')} ${this.c.bold(g.id.padEnd(21))} ${g.reason}`,
      )
      .join('\n');
  }
}
