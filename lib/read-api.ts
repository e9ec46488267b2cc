/**
 * `ReadApi`: the dual-read API of one migration (docs/design.md §1, §5): an API Gateway REST API with IAM
 * authorization in front of the read Lambda (lambdas/read), which routes every read between the
 * legacy and the new table. Least-privilege access, access logs, execution logs, and alarms on server
 * errors and latency.
 *
 * Resources (all in the legacy key space; see docs/architecture.md "Dual-read API"):
 *   GET  /migrations/{id}/items?key=...      POST /migrations/{id}/batch-get      POST /migrations/{id}/query
 *   GET  /migrations/{id}/query?surface=...&partitionKey=...
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { controlItemsStatement } from './alarms-grants';
import { ConstructPropsError } from './errors';
import type { MigrationPartProps } from './migration-part-props';
import { DualReadFunction } from './nodejs-function';
import { createReadAlarms } from './read-api-alarms';

/** CloudWatch namespace and service of the read Lambda's metrics (Powertools). */
export const ReadApiMetrics = { NAMESPACE: 'dualread', SERVICE: 'dualread-read' } as const;

/** Optional API key and usage plan (in addition to IAM authorization). */
export interface ReadApiKeyOptions {
  /** Steady-state requests per second per key. @default 100 */
  readonly rateLimit?: number;
  /** Burst. @default 200 */
  readonly burstLimit?: number;
}

/** Props of `ReadApi`. On the control table, STATE and FRONTIER are read. */
export interface ReadApiProps extends MigrationPartProps {
  /**
   * Also require an API key (with a usage plan throttling each key). IAM authorization stays on.
   *
   * @default - IAM authorization only, no API key
   */
  readonly apiKey?: ReadApiKeyOptions;
  /**
   * Secret of the query page tokens (HMAC-SHA256; its `SecretString` is the key). Tokens authenticate
   * the start key of the next page; they hold no user data beyond the key the client already saw. The
   * read Lambda gets its ARN (`PAGE_TOKEN_SECRET_ARN`) and `secretsmanager:GetSecretValue` on it only;
   * the value is never in the template or an environment variable.
   *
   * @default - a secret generated at deploy (64 characters, no punctuation), rotatable by putting a new
   *   value (`aws secretsmanager put-secret-value`): tokens signed with the old value then fail with 400
   *   once the Lambdas have read the new one (docs/runbook.md "Page-token secret")
   */
  readonly pageTokenSecret?: secretsmanager.ISecret;
  /**
   * Stage throttling: steady requests per second and burst, for the whole stage (every caller).
   *
   * @default - { rateLimit: 1000, burstLimit: 2000 } (the account's default is 10000/5000 across all APIs)
   */
  readonly throttle?: { readonly rateLimit?: number; readonly burstLimit?: number };
  /**
   * Reserved concurrency of the read Lambda: caps it (so a read storm cannot starve the account's
   * other functions) and guarantees it that many concurrent executions.
   *
   * @default - none (unreserved): an account's unreserved pool must keep 100 executions, so a default
   *   here could fail deploys in accounts with a low concurrency quota
   */
  readonly reservedConcurrency?: number;
  /** Fraction of 5xx answers (0..1) above which the rollback alarm fires. @default 0.01 */
  readonly serverErrorRateThreshold?: number;
  /** Fraction of shadow comparisons confirmed as mismatches (0..1) above which the rollback alarm fires. @default 0.001 */
  readonly shadowMismatchRateThreshold?: number;
  /** Stage name. @default 'v1' */
  readonly stageName?: string;
  /** Timeout of one read of the new table before legacy answers instead. @default Duration.millis(300) */
  readonly newTableTimeout?: Duration;
  /** p99 latency above which the latency alarm fires. @default Duration.seconds(1) */
  readonly latencyAlarmThreshold?: Duration;
  /** Retention of access and execution logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** The dual-read API of one migration. */
export class ReadApi extends Construct {
  public readonly function: DualReadFunction;
  public readonly api: apigateway.RestApi;
  public readonly accessLogs: logs.LogGroup;
  public readonly apiKey?: apigateway.IApiKey;
  /** The page-token secret (created unless given). */
  public readonly pageTokenSecret: secretsmanager.ISecret;
  /** Fires on any 5xx from the API (a read legacy could have answered must never fail). */
  public readonly serverErrorAlarm: cloudwatch.Alarm;
  /** Fires when the 5xx rate stays above its threshold (a rollback alarm). */
  public readonly serverErrorRateAlarm: cloudwatch.Alarm;
  /** Fires when p99 latency stays above the threshold. */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** Fires on any confirmed shadow mismatch. */
  public readonly shadowMismatchAlarm: cloudwatch.Alarm;
  /** Fires when the confirmed shadow mismatch rate is above its threshold (a rollback alarm). */
  public readonly shadowMismatchRateAlarm: cloudwatch.Alarm;
  /** Fires when the new-table circuit breaker stays open. */
  public readonly newBreakerOpenAlarm: cloudwatch.Alarm;
  /** Fires when reads of the new table keep failing. */
  public readonly newStoreErrorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    const { migration } = props;
    validateReadApiProps(props);
    const newTimeout = props.newTableTimeout ?? Duration.millis(300);
    const throttle = { rateLimit: 1000, burstLimit: 2000, ...props.throttle };

    this.pageTokenSecret =
      props.pageTokenSecret ??
      new secretsmanager.Secret(this, 'PageTokenSecret', {
        description: `dualread: HMAC key of the query page tokens of migration ${migration.id}`,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });

    this.function = new DualReadFunction(this, 'Function', {
      entry: join(__dirname, '..', 'lambdas', 'read', 'index.ts'),
      definitionsFile: props.definitionsFile,
      observability: props.lambdaObservability,
      description: `dualread read API of migration ${migration.id}`,
      // Under API Gateway's 29 s: legacy's timeout (3 s) plus retries fit with room to answer.
      timeout: Duration.seconds(10),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      environment: {
        MIGRATION_ID: migration.id,
        CONTROL_TABLE_NAME: props.controlTable.tableName,
        LEGACY_TABLE_NAME: props.legacyTable.tableName,
        NEW_TABLE_NAME: props.newTable.tableName,
        PAGE_TOKEN_SECRET_ARN: this.pageTokenSecret.secretArn,
        READ_NEW_TIMEOUT_MS: String(newTimeout.toMilliseconds()),
        POWERTOOLS_SERVICE_NAME: ReadApiMetrics.SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: ReadApiMetrics.NAMESPACE,
      },
    });

    // Least privilege: point reads and queries of the two tables (no BatchGetItem: batch gets are
    // answered key by key through the routing decision), and only this migration's control items.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadMigratedTables',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.legacyTable.tableArn, props.newTable.tableArn],
      }),
    );
    // Queries of the indexes the declared query surfaces read, and no other index.
    const indexArns = Object.values(migration.queries).flatMap((q) => [
      ...(q.legacy.index ? [`${props.legacyTable.tableArn}/index/${q.legacy.index}`] : []),
      ...(q.fresh.index ? [`${props.newTable.tableArn}/index/${q.fresh.index}`] : []),
    ]);
    if (indexArns.length)
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'QueryMappedIndexes',
          actions: ['dynamodb:Query'],
          resources: indexArns,
        }),
      );
    this.function.addToRolePolicy(
      controlItemsStatement(
        props.controlTable,
        migration.id,
        // UpdateItem: the per-minute SHADOW# counters (atomic ADD) the control plane's guardrail reads.
        ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        'ReadMigrationControlItems',
      ),
    );
    // GetSecretValue on this one secret (and Decrypt with its key, when it has a customer-managed one).
    this.pageTokenSecret.grantRead(this.function);
    props.legacyTable.encryptionKey?.grantDecrypt(this.function);
    props.newTable.encryptionKey?.grantDecrypt(this.function);
    props.controlTable.encryptionKey?.grantDecrypt(this.function);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const requireKey = props.apiKey !== undefined;
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `dualread-${migration.id}-read`,
      description: `dualread: reads of migration ${migration.id}, routed between legacy and new`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Access and execution logs need the account's API Gateway CloudWatch role, one per account and
      // region: never created here (one per API would fight over the account setting). DualReadStack
      // creates it when asked (`apiGatewayCloudWatchRole`); docs/runbook.md "Deploy".
      cloudWatchRole: false,
      deployOptions: {
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        stageName: props.stageName ?? 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      defaultMethodOptions: {
        authorizationType: apigateway.AuthorizationType.IAM,
        apiKeyRequired: requireKey,
      },
    });
    // RestApi adds an `Endpoint` output by itself; outputs are the stack's to choose (the URL is
    // `readApi.api.url`, and `aws apigateway get-rest-apis` finds it by the name above).
    this.api.node.tryRemoveChild('Endpoint');
    const integration = new apigateway.LambdaIntegration(this.function, { proxy: true });
    const validator = new apigateway.RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      // Body validation applies where a model is attached (none: the Lambda validates bodies and names the
      // problem in its 400, which a model could not do).
      validateRequestBody: true,
    });
    const byId = this.api.root.addResource('migrations').addResource('{id}');
    byId.addResource('items').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.key': true },
    });
    byId.addResource('batch-get').addMethod('POST', integration, { requestValidator: validator });
    const queries = byId.addResource('query');
    queries.addMethod('POST', integration, { requestValidator: validator });
    queries.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.partitionKey': true },
    });

    if (props.apiKey) {
      const plan = this.api.addUsagePlan('UsagePlan', {
        name: `dualread-${migration.id}-read`,
        throttle: { rateLimit: props.apiKey.rateLimit ?? 100, burstLimit: props.apiKey.burstLimit ?? 200 },
      });
      plan.addApiStage({ stage: this.api.deploymentStage });
      this.apiKey = this.api.addApiKey('ApiKey', { description: `dualread read API of ${migration.id}` });
      plan.addApiKey(this.apiKey);
    }

    ({
      serverErrorAlarm: this.serverErrorAlarm,
      serverErrorRateAlarm: this.serverErrorRateAlarm,
      latencyAlarm: this.latencyAlarm,
      shadowMismatchAlarm: this.shadowMismatchAlarm,
      shadowMismatchRateAlarm: this.shadowMismatchRateAlarm,
      newBreakerOpenAlarm: this.newBreakerOpenAlarm,
      newStoreErrorsAlarm: this.newStoreErrorsAlarm,
    } = createReadAlarms(this, this.api, ReadApiMetrics, migration.id, {
      latency: props.latencyAlarmThreshold ?? Duration.seconds(1),
      serverErrorRate: props.serverErrorRateThreshold ?? 0.01,
      shadowMismatchRate: props.shadowMismatchRateThreshold ?? 0.001,
    }));

    this.acknowledgeFindings();
  }

  private acknowledgeFindings(): void {
    if (this.pageTokenSecret instanceof secretsmanager.Secret) {
      Validations.of(this.pageTokenSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The page-token key is an HMAC key, not a credential of another system: there is nothing for a rotation ' +
          'Lambda to update. It is rotated by putting a new value (docs/runbook.md "Page-token secret").',
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4 (IAM) authorization, so anonymous traffic never reaches the Lambda; a WAF web ACL ' +
        'is an account-level choice and can be associated with the stage without changing this construct.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The callers are applications with IAM identities (SigV4), not end users: IAM authorization, not Cognito.',
    });
  }
}

/**
 * @throws ConstructPropsError for an invalid prop
 */
function validateReadApiProps(props: ReadApiProps): void {
  const fail = (problem: string): never => {
    throw new ConstructPropsError('ReadApi', props.migration.id, problem);
  };
  const newTimeout = props.newTableTimeout?.toMilliseconds();
  if (newTimeout !== undefined && (newTimeout < 10 || newTimeout > 10_000)) {
    fail(`newTableTimeout must be 10 ms to 10 s, not ${newTimeout} ms`);
  }
  if (props.apiKey?.rateLimit !== undefined && !(props.apiKey.rateLimit > 0)) {
    fail('apiKey.rateLimit must be positive');
  }
  const { rateLimit, burstLimit } = props.throttle ?? {};
  if (rateLimit !== undefined && !(rateLimit > 0))
    fail(`throttle.rateLimit must be positive, not ${rateLimit}`);
  if (burstLimit !== undefined && !(Number.isInteger(burstLimit) && burstLimit > 0)) {
    fail(`throttle.burstLimit must be a positive whole number, not ${burstLimit}`);
  }
  const reserved = props.reservedConcurrency;
  if (reserved !== undefined && !(Number.isInteger(reserved) && reserved >= 1)) {
    fail(`reservedConcurrency must be a whole number of at least 1, not ${reserved}`);
  }
  for (const [name, value] of [
    ['serverErrorRateThreshold', props.serverErrorRateThreshold],
    ['shadowMismatchRateThreshold', props.shadowMismatchRateThreshold],
  ] as const) {
    if (value !== undefined && !(value >= 0 && value < 1))
      fail(`${name} must be a fraction from 0 to below 1, not ${value}`);
  }
}
