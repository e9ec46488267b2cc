/** Parsers of option values shared by the commands; each throws a `UsageError` naming the fix. */
import { InvalidArgumentError } from 'commander';
import { parsePhase, type Phase } from '../../core/control';

/** A phase name (any case, `-` or `_`). */
export function phaseArg(value: string): Phase {
  try {
    return parsePhase(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A number within [min, max]. */
export function numberArg(min: number, max: number, integer = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(
        `"${value}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
    return n;
  };
}

/** A time: an ISO date (`2026-12-04T10:00Z`), epoch ms, or a duration back from now (`30m`, `2h`, `7d`). */
export function sinceArg(now: () => number): (value: string) => number {
  return (value) => {
    const rel = /^(\d+)(s|m|h|d)$/.exec(value.trim());
    if (rel) {
      const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
      return now() - Number(rel[1]) * unit;
    }
    const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(t))
      throw new InvalidArgumentError(
        `"${value}" is not a time: use an ISO date (2026-12-04T10:00Z) or a duration (30m, 2h, 7d)`,
      );
    return t;
  };
}

/** `on`/`off` (also true/false). */
export function onOffArg(value: string): boolean {
  if (/^(on|true|yes)$/i.test(value)) return true;
  if (/^(off|false|no)$/i.test(value)) return false;
  throw new InvalidArgumentError(`"${value}" must be on or off`);
}
