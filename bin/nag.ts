/**
 * cdk-nag at synth: the AwsSolutions and Serverless packs run as CDK validation plugins while the app
 * synthesizes, and any finding not acknowledged with a reason (`Validations.of(c).acknowledge`) fails
 * the synth, warnings included: an unacknowledged warning is as unreviewed as an error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DualReadError } from '../core/common';

/** One unacknowledged finding of a validation plugin (cdk-nag, or CDK's own annotations). */
export interface NagFinding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly paths: readonly string[];
}

/** Synth found unacknowledged findings; the message lists each with the constructs it names. */
export class NagFindingsError extends DualReadError {
  constructor(readonly findings: readonly NagFinding[]) {
    super(
      `cdk-nag: ${findings.length} unacknowledged finding(s); fix each, or acknowledge it with a true reason ` +
        `(Validations.of(construct).acknowledge({ id, reason })):\n` +
        findings.map((f) => `  ${f.severity} ${f.rule}: ${f.paths.join(', ')}`).join('\n'),
    );
  }
}

interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly severity?: string;
      readonly violatingConstructs?: readonly { readonly constructPath?: string }[];
    }[];
  }[];
}

/** Adds the AwsSolutions and Serverless packs to `app`. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

/**
 * Synthesizes `app` (with the packs added by `addNagChecks`) and returns every unacknowledged finding,
 * warnings included. An error-level finding makes synth throw; the findings are then read from the
 * report file the failed synth wrote, so all of them are returned rather than the first.
 */
export function synthFindings(app: App): NagFinding[] {
  let reportFile: string;
  try {
    reportFile = join(app.synth().directory, 'validation-report.json');
  } catch (err) {
    const m = /A copy of this report can be found in: (\S+validation-report\.json)/.exec(
      (err as Error).message,
    );
    if (!m?.[1]) throw err;
    reportFile = m[1];
  }
  // Read, not assumed: with a plugin registered, synth always writes the report.
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
  return report.pluginReports.flatMap((r) =>
    r.violations.map((v) => ({
      plugin: r.pluginName,
      rule: v.ruleName,
      severity: v.severity ?? 'unknown',
      paths: (v.violatingConstructs ?? []).map((c) => c.constructPath ?? '?'),
    })),
  );
}

/**
 * Synthesizes `app` under both packs.
 *
 * @throws NagFindingsError when any finding is unacknowledged
 */
export function synthWithNag(app: App): void {
  addNagChecks(app);
  const findings = synthFindings(app);
  if (findings.length > 0) throw new NagFindingsError(findings);
}
