/**
 * Consistency modes of the read path: their strictness order, the default of each phase, and how a
 * requested mode is reconciled with the phase default (a request may be stricter, never looser).
 *
 * Strictness orders modes by how little the answer may depend on the new table:
 *
 *   new  <  bounded  <  strong  <  shadow  <  legacy
 *
 * - `new`: the new table's state, with no freshness bound.
 * - `bounded`: the new table's state only if it is no older than the staleness budget, else legacy.
 * - `strong`: reads both; the content served always equals legacy's (served from new only when equal).
 * - `shadow`: served from legacy; new is read only to compare.
 * - `legacy`: served from legacy; new is not touched.
 *
 * `strong`, `shadow` and `legacy` all return legacy's content; they are ordered by how much of the
 * new table's behaviour (latency, errors) the request still goes through.
 */
import { Phase } from '../control';
import { ConsistencyMode } from '../model';

/** Rank of each mode in the strictness order (higher is stricter). */
export const STRICTNESS: Readonly<Record<ConsistencyMode, number>> = {
  new: 0,
  bounded: 1,
  strong: 2,
  shadow: 3,
  legacy: 4,
} as const;

/** All modes, loosest first. */
export const MODES_BY_STRICTNESS: readonly ConsistencyMode[] = [
  'new',
  'bounded',
  'strong',
  'shadow',
  'legacy',
];

/** True if `value` names a consistency mode. */
export function isConsistencyMode(value: string): value is ConsistencyMode {
  return Object.prototype.hasOwnProperty.call(STRICTNESS, value);
}

/**
 * The mode a request gets when it names none, per phase. DUAL_READ and NEW_PRIMARY use the
 * migration's configured default (`read.defaultConsistency`, `bounded` unless changed).
 */
export function phaseDefaultMode(phase: Phase, migrationDefault: ConsistencyMode): ConsistencyMode {
  switch (phase) {
    case Phase.LEGACY_ONLY:
    case Phase.BACKFILLING:
      return ConsistencyMode.LEGACY;
    case Phase.SHADOW:
      return ConsistencyMode.SHADOW;
    case Phase.DUAL_READ:
    case Phase.NEW_PRIMARY:
      return migrationDefault;
    case Phase.FINALIZED:
      return ConsistencyMode.NEW;
  }
}

/** The outcome of reconciling a requested mode with the phase default. */
export interface EffectiveMode {
  readonly mode: ConsistencyMode;
  /** True if the request asked for a looser mode than the default and got the default instead. */
  readonly clamped: boolean;
  /** True if the request named the mode (and got it). */
  readonly explicit: boolean;
}

/**
 * The effective mode: the requested one if it is at least as strict as the phase default, else the
 * default (the request is not refused: a phase rollback must never start failing clients that ask
 * for a looser mode; the response's reason says it was clamped).
 */
export function effectiveMode(phaseDefault: ConsistencyMode, requested?: ConsistencyMode): EffectiveMode {
  if (requested === undefined) return { mode: phaseDefault, clamped: false, explicit: false };
  if (STRICTNESS[requested] < STRICTNESS[phaseDefault])
    return { mode: phaseDefault, clamped: true, explicit: false };
  return { mode: requested, clamped: false, explicit: true };
}
