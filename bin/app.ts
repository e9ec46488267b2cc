#!/usr/bin/env node
/**
 * The CDK app: `cdk synth -c env=<name> -c definitions=<file.ts> [-c region=<region>] [-c example=true|false]`.
 * Settings come from context (lib/app-context.ts); this file only loads the definitions and
 * instantiates the stack.
 */
import { App } from 'aws-cdk-lib';
import { loadMigrations } from '../adapters/migration-loader';
import { DualReadError } from '../core/common';
import { DualReadStack, appSettingsFromContext, describeSynthRegion, synthRegion } from '../lib';
import { synthWithNag } from './nag';

async function main(): Promise<void> {
  const app = new App();
  const settings = appSettingsFromContext(app);
  const migrations = await loadMigrations(settings.definitionsFile);
  const region = synthRegion(settings, process.env.CDK_DEFAULT_REGION);
  // On stderr: the CDK CLI passes it through, and stdout stays the CLI's.
  console.error(describeSynthRegion(settings.stackId, region));
  new DualReadStack(app, settings.stackId, {
    migrations,
    envName: settings.envName,
    definitionsFile: settings.definitionsFile,
    createLegacyTablesForExample: settings.createLegacyTablesForExample,
    apiGatewayCloudWatchRole: settings.apiGatewayCloudWatchRole,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: region.region },
  });
  // cdk-nag runs during synth; an unacknowledged finding fails it (bin/nag.ts).
  synthWithNag(app);
}

main().catch((err: unknown) => {
  // A definition or context mistake is the user's to fix: its message says what to do, a stack trace
  // would only bury it. Anything else is a bug and keeps its trace.
  console.error(err instanceof DualReadError ? `dualread: ${err.message}` : err);
  process.exit(1);
});
