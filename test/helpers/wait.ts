/**
 * Waiting on conditions, not on wall-clock windows: `waitUntil` polls a condition and returns as soon
 * as it holds. Its timeout is only a guard that turns a condition that never holds (a bug) into a
 * failure naming the condition; it is not a window the test has to hit, so a loaded machine only
 * makes the test slower.
 */

/** Options of `waitUntil`. */
export interface WaitOptions {
  /** Guard against a condition that never holds. @default 60000 ms */
  readonly timeoutMs?: number;
  /** @default 100 ms */
  readonly intervalMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolves once `condition()` is true.
 *
 * @throws Error naming `what` (and `detail()`, if given) when the guard runs out
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions & { detail?: () => string } = {},
): Promise<void> {
  const guard = performance.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (await condition()) return;
    if (performance.now() > guard) {
      throw new Error(`still waiting for ${what}${options.detail ? ` (${options.detail()})` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
