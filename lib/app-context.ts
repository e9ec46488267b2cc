/**
 * The CDK app's settings, read from context (`cdk synth -c env=prod -c definitions=path/to/file.ts
 * -c region=eu-west-1` or cdk.json), so that `bin/app.ts` only instantiates.
 */
import { resolve } from 'node:path';
import type { Construct } from 'constructs';
import { AppContextError } from './errors';

/** Context keys the app reads. */
export const ContextKey = {
  /** Environment name: the stack is `DualRead-<env>`. */
  ENV: 'env',
  /** Path of the migration definitions file, relative to the working directory. */
  DEFINITIONS: 'definitions',
  /** `true` to create the legacy tables (example and rehearsal stacks). */
  EXAMPLE: 'example',
  /** `true` to create the account's API Gateway CloudWatch Logs role in this stack (one per account and region). */
  API_GATEWAY_CLOUDWATCH_ROLE: 'apiGatewayCloudWatchRole',
  /** The AWS region to synthesize for (over `CDK_DEFAULT_REGION`, which the CDK CLI sets from the profile). */
  REGION: 'region',
} as const;

/** The definitions file of the bundled example (`examples/users`). */
export const EXAMPLE_DEFINITIONS_FILE = resolve(__dirname, '..', 'examples', 'users', 'migrations.ts');

/** Default environment name. */
export const DEFAULT_ENV_NAME = 'dev';

/** Settings of one synth. */
export interface AppSettings {
  /** Environment name (`dev`, `prod`, ...). */
  readonly envName: string;
  /** Stack id and name: `DualRead-<env>`. */
  readonly stackId: string;
  /** Absolute path of the definitions file. */
  readonly definitionsFile: string;
  /** Create the legacy tables (only for the example or a rehearsal). */
  readonly createLegacyTablesForExample: boolean;
  /** Create the account's API Gateway CloudWatch Logs role (default false). */
  readonly apiGatewayCloudWatchRole: boolean;
  /** The region given with `-c region=`, if any. */
  readonly region?: string;
}

/** Where the region of a synth came from, and the region (undefined: an environment-agnostic stack). */
export interface SynthRegion {
  readonly region?: string;
  readonly source: 'context' | 'CDK_DEFAULT_REGION' | 'none';
}

/** The region to synthesize for: `-c region=` first, then `CDK_DEFAULT_REGION`, else none. */
export function synthRegion(settings: AppSettings, defaultRegion: string | undefined): SynthRegion {
  if (settings.region) return { region: settings.region, source: 'context' };
  if (defaultRegion) return { region: defaultRegion, source: 'CDK_DEFAULT_REGION' };
  return { source: 'none' };
}

/** The line `bin/app.ts` prints: which region the synth used and how to change it. */
export function describeSynthRegion(stackId: string, r: SynthRegion): string {
  return r.region
    ? `dualread: synthesizing ${stackId} for region ${r.region} (from ${r.source === 'context' ? '-c region' : 'CDK_DEFAULT_REGION'})`
    : `dualread: synthesizing ${stackId} without a region (environment-agnostic); set -c region=<region> or CDK_DEFAULT_REGION to pin one`;
}

function parseBoolean(key: string, raw: unknown): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new AppContextError(key, `must be true or false, not ${JSON.stringify(raw)}`);
}

/**
 * Reads the app's settings from context. `example` defaults to true exactly when the definitions file
 * is the bundled example, whose legacy table does not exist anywhere and so must be created.
 *
 * @throws AppContextError on an invalid value
 */
export function appSettingsFromContext(scope: Construct, cwd: string = process.cwd()): AppSettings {
  const rawEnv: unknown = scope.node.tryGetContext(ContextKey.ENV) ?? DEFAULT_ENV_NAME;
  if (typeof rawEnv !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(rawEnv)) {
    throw new AppContextError(
      ContextKey.ENV,
      `${JSON.stringify(rawEnv)} is not a valid environment name (a letter, then letters, digits or dashes; at most 64)`,
    );
  }
  const rawDefinitions: unknown = scope.node.tryGetContext(ContextKey.DEFINITIONS);
  if (rawDefinitions !== undefined && (typeof rawDefinitions !== 'string' || rawDefinitions === '')) {
    throw new AppContextError(ContextKey.DEFINITIONS, 'must be the path of a definitions file');
  }
  const definitionsFile =
    rawDefinitions === undefined ? EXAMPLE_DEFINITIONS_FILE : resolve(cwd, rawDefinitions);
  const rawRegion: unknown = scope.node.tryGetContext(ContextKey.REGION);
  if (
    rawRegion !== undefined &&
    (typeof rawRegion !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(rawRegion))
  ) {
    throw new AppContextError(
      ContextKey.REGION,
      `${JSON.stringify(rawRegion)} is not an AWS region name (for example eu-west-1)`,
    );
  }
  const example =
    parseBoolean(ContextKey.EXAMPLE, scope.node.tryGetContext(ContextKey.EXAMPLE)) ??
    definitionsFile === EXAMPLE_DEFINITIONS_FILE;
  return {
    envName: rawEnv,
    stackId: `DualRead-${rawEnv}`,
    definitionsFile,
    createLegacyTablesForExample: example,
    apiGatewayCloudWatchRole:
      parseBoolean(
        ContextKey.API_GATEWAY_CLOUDWATCH_ROLE,
        scope.node.tryGetContext(ContextKey.API_GATEWAY_CLOUDWATCH_ROLE),
      ) ?? false,
    ...(rawRegion !== undefined ? { region: rawRegion } : {}),
  };
}
