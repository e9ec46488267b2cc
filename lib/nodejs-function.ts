/**
 * The one way this project builds a Lambda function: `DualReadFunction`, a `NodejsFunction` bundled by
 * the local esbuild (never Docker, so `cdk synth` runs offline) with the user's migration definitions
 * compiled in.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { DEFINITIONS_IMPORT, LambdaDefaults } from './defaults';
import { ConstructPropsError } from './errors';

/** Root of this repository: the esbuild project root and the place of its lock file. */
const PROJECT_ROOT = resolve(__dirname, '..');

/**
 * How every bundle's code is shortened. `keepNames`: minifying renames classes, and an error's `name` is
 * its class's name (`NamedError`, core/common/errors.ts); Step Functions Retry/Catch match that name (the
 * runtime reports it as `errorType`) and the CLI maps it to an exit code, so the bundle keeps the names.
 */
export const BUNDLE_MINIFY = { minify: true, keepNames: true } as const;

/** Tracing and log settings every function of a migration shares. */
export interface LambdaObservability {
  /**
   * Active X-Ray tracing (Powertools Tracer records the SDK calls as subsegments). Off: tracing is
   * disabled and `POWERTOOLS_TRACE_ENABLED=false` turns the Tracer off too (its SDK clients are not wrapped).
   *
   * @default true
   */
  readonly tracing?: boolean;
  /** Retention of the function's log group (`/aws/lambda/<function>`). @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** Props of `DualReadFunction`. */
export interface DualReadFunctionProps extends NodejsFunctionProps {
  /** Absolute path of the handler's entry file (`lambdas/<name>/index.ts`). */
  readonly entry: string;
  /**
   * Absolute path of the migration definitions file that `import ... from 'dualread-definitions'`
   * resolves to in the bundle.
   */
  readonly definitionsFile: string;
  /** Required: Lambda's 3 s default fits none of dualread's functions, so each states its own. */
  readonly timeout: Duration;
  /** Tracing and log retention. @default - see `LambdaObservability` */
  readonly observability?: LambdaObservability;
}

/**
 * A Node.js Lambda function with this project's settings: Node 20 on arm64, bundled by the local
 * esbuild with the AWS SDK inside, `dualread-definitions` aliased to the user's definitions file.
 * Props given by the caller override the defaults, except the alias, which is always set.
 */
export class DualReadFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: DualReadFunctionProps) {
    validateFunctionProps(props);
    const { definitionsFile, bundling, environment, observability, ...rest } = props;
    const tracing = observability?.tracing ?? true;
    // Its own role without AWSLambdaBasicExecutionRole (which may write to every log group of the
    // account): the only logging permission is on this function's log group (`LogsPolicy` below).
    const role =
      rest.role ??
      new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${scope.node.path}/${id}`,
      });
    super(scope, id, {
      role,
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      runtime: LambdaDefaults.runtime,
      architecture: LambdaDefaults.architecture,
      memorySize: LambdaDefaults.memorySize,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      ...rest,
      environment: {
        // Stack traces point at the TypeScript sources (the bundle carries a source map).
        NODE_OPTIONS: '--enable-source-maps',
        ...(tracing ? {} : { POWERTOOLS_TRACE_ENABLED: 'false' }),
        ...environment,
      },
      bundling: {
        // Local esbuild only, so synth works offline and without a Docker daemon (validateFunctionProps
        // has checked that esbuild is installed; otherwise NodejsFunction would silently try Docker).
        forceDockerBundling: false,
        // Bundle the AWS SDK instead of using the copy in the Lambda runtime. NodejsFunction's default
        // externalizes `@aws-sdk/*`, so the deployed code would run whatever SDK version the runtime
        // ships that month, not the exact versions pinned in package.json and exercised by the
        // integration tests. Correctness here hangs on SDK behaviour (condition-failure errors,
        // `ReturnValuesOnConditionCheckFailure`, stream record shapes, number handling), so the tested
        // version is the deployed version. Cost: a larger bundle and a slightly longer cold start,
        // limited because esbuild includes only the clients a handler imports.
        bundleAwsSDK: true,
        externalModules: [],
        format: OutputFormat.CJS,
        target: LambdaDefaults.esbuildTarget,
        ...BUNDLE_MINIFY,
        sourceMap: true,
        sourcesContent: false,
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        // Keep `cdk synth -q` quiet: esbuild's size table per function is noise; errors still print.
        logLevel: LogLevel.WARNING,
        ...bundling,
        esbuildArgs: {
          ...bundling?.esbuildArgs,
          // tsconfig `paths` maps `dualread-definitions` to the example; the alias points it at the file
          // this stack was synthesized with. An alias wins over tsconfig paths in esbuild.
          '--alias': [`${DEFINITIONS_IMPORT}=${definitionsFile}`],
        },
      },
    });

    // The log group CDK creates for the function (feature flag useCdkManagedLogGroup) keeps logs forever
    // unless told otherwise.
    const logGroup = this.node.tryFindChild('LogGroup');
    if (logGroup instanceof logs.LogGroup) {
      const retention = observability?.logRetention ?? logs.RetentionDays.ONE_YEAR;
      (logGroup.node.defaultChild as logs.CfnLogGroup).retentionInDays =
        retention === logs.RetentionDays.INFINITE ? undefined : retention;
      if (!rest.role) {
        // A policy of its own, not the role's default policy: the function depends on that one, and the
        // log group's name depends on the function's (a cycle).
        new iam.Policy(this, 'LogsPolicy', {
          roles: [role],
          statements: [
            new iam.PolicyStatement({
              sid: 'WriteOwnLogs',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        });
      }
    }
    acknowledgeFunctionFindings(this, tracing);
  }
}

/**
 * Checks what NodejsFunction would otherwise report late or confusingly: relative paths, a missing
 * definitions file (an esbuild resolve error deep in the bundling output), and a missing local esbuild
 * (a fallback to Docker bundling that fails without a daemon).
 *
 * @throws ConstructPropsError saying what to fix
 */
function validateFunctionProps(props: DualReadFunctionProps): void {
  const fail = (problem: string): never => {
    throw new ConstructPropsError('DualReadFunction', undefined, problem);
  };
  if (!isAbsolute(props.entry) || !isAbsolute(props.definitionsFile)) {
    fail(`entry (${props.entry}) and definitionsFile (${props.definitionsFile}) must be absolute paths`);
  }
  if (!existsSync(props.definitionsFile)) fail(`definitionsFile ${props.definitionsFile} does not exist`);
  try {
    require.resolve('esbuild', { paths: [PROJECT_ROOT] });
  } catch {
    fail(
      'esbuild is not installed in this project (run npm ci); dualread bundles with the local esbuild, never in Docker',
    );
  }
}

/**
 * The findings every `DualReadFunction` raises by design, acknowledged with their reasons. Findings
 * about what a handler is granted (IAM5 on table indexes, ...) are acknowledged where the grant is made.
 */
function acknowledgeFunctionFindings(fn: DualReadFunction, tracing: boolean): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'A Lambda dead-letter queue receives failed asynchronous invocations only. Step Functions tasks, the API ' +
      "Gateway proxy integration and operators' `aws lambda invoke` wait for the result; the stream event source " +
      'mapping has its own on-failure destination (the CDC dead-letter queue); the frontier tracker drops a failed ' +
      "scheduled tick on purpose, the next minute's tick replaces it (lib/frontier-tracker.ts).",
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The Node.js runtime is pinned to a supported LTS major (lib/defaults.ts, LambdaDefaults.runtime) and moved ' +
      'deliberately, after the handlers and the bundled SDK are tested on it, not by following "latest".',
  });
  // The role is the function's sibling (`<id>Role`); statements added to it are acknowledged on it.
  if (tracing && fn.role) {
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing) have no resource-level permissions; " +
        'every other statement of the role names its resource, or says why it cannot where it is granted.',
    });
  }
}
