/**
 * Named errors of the control plane. Each message says what was wrong and what to do; the CLI maps
 * each class to its exit code (cli/exit-codes.ts).
 */
import { DualReadError } from '../common';
import type { Guardrail } from './guardrails';
import type { Phase } from './state';

/** A forward move whose guardrails are not all met; `guardrails` lists each, met or not, with its reason. */
export class GuardrailUnmetError extends DualReadError {
  constructor(
    readonly migrationId: string,
    readonly from: Phase,
    readonly to: Phase,
    readonly guardrails: readonly Guardrail[],
  ) {
    const unmet = guardrails.filter((g) => !g.met);
    super(
      `migration "${migrationId}" cannot advance from ${from} to ${to}: ` +
        unmet.map((g) => `${g.id}: ${g.reason}`).join('; ') +
        (unmet.every((g) => g.forcible)
          ? ' (or pass --force with --reason to override, audited as forced)'
          : ''),
    );
  }
}

/** `--force` without a reason: forcing past a guardrail is audited, and the audit needs the why. */
export class ForceNeedsReasonError extends DualReadError {
  constructor(readonly action: string) {
    super(
      `${action} with --force needs --reason "<why it is safe>": forced changes are audited with their reason`,
    );
  }
}

/** A request the phase machine refuses whatever the facts: a move outside the graph, a bad value. */
export class InvalidControlRequestError extends DualReadError {}
