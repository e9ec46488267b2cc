/**
 * `ReadApi`: the dual-read API of one migration (docs/design.md §1, §5): an API Gateway REST API with IAM
 * authorization in front of the read Lambda (lambdas/read), which routes every read between the
 * legacy and the new table. Least-privilege access, access logs, execution logs, and alarms on server
 * errors and latency.
 *
 * Resources (all in the legacy key space; see docs/architecture.md "Dual-read API"):
 *   GET  /migrations/{id}/items?key=...      POST /migrations/{id}/batch-get      POST /migrations/{id}/query
 */
import { join } from 'node:path';
import { Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Migration } from '../core/model';
import { anyCountAlarm, controlItemsStatement } from './alarms-grants';
import { ConstructPropsError } from './errors';
import { DualReadFunction } from './nodejs-function';

/** CloudWatch namespace and service of the read Lambda's metrics (Powertools). */
export const ReadApiMetrics = { NAMESPACE: 'dualread', SERVICE: 'read-api' } as const;

/** Optional API key and usage plan (in addition to IAM authorization). */
export interface ReadApiKeyOptions {
  /** Steady-state requests per second per key. @default 100 */
  readonly rateLimit?: number;
  /** Burst. @default 200 */
  readonly burstLimit?: number;
}

/** Props of `ReadApi`. */
export interface ReadApiProps {
  readonly migration: Migration;
  /** The stack's control table (STATE and FRONTIER are read). */
  readonly controlTable: dynamodb.ITable;
  readonly legacyTable: dynamodb.ITable;
  readonly newTable: dynamodb.ITable;
  /** Absolute path of the definitions file bundled as `dualread-definitions`. */
  readonly definitionsFile: string;
  /**
   * Also require an API key (with a usage plan throttling each key). IAM authorization stays on.
   *
   * @default - IAM authorization only, no API key
   */
  readonly apiKey?: ReadApiKeyOptions;
  /**
   * Secret of the query page tokens (HMAC-SHA256). Tokens authenticate the start key of the next page;
   * they hold no user data beyond the key the client already saw.
   *
   * @default - a value unique to this construct in this stack (tokens do not carry over to another deployment)
   */
  readonly pageTokenSecret?: string;
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
  /** Fires on any 5xx from the API (a read legacy could have answered must never fail). */
  public readonly serverErrorAlarm: cloudwatch.Alarm;
  /** Fires when p99 latency stays above the threshold. */
  public readonly latencyAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    const { migration } = props;
    const newTimeout = props.newTableTimeout ?? Duration.millis(300);
    if (newTimeout.toMilliseconds() < 10 || newTimeout.toMilliseconds() > 10_000) {
      throw new ConstructPropsError(
        'ReadApi',
        migration.id,
        `newTableTimeout must be 10 ms to 10 s, not ${newTimeout.toMilliseconds()} ms`,
      );
    }
    if (props.apiKey?.rateLimit !== undefined && !(props.apiKey.rateLimit > 0)) {
      throw new ConstructPropsError('ReadApi', migration.id, 'apiKey.rateLimit must be positive');
    }

    this.function = new DualReadFunction(this, 'Function', {
      entry: join(__dirname, '..', 'lambdas', 'read', 'index.ts'),
      definitionsFile: props.definitionsFile,
      description: `dualread read API of migration ${migration.id}`,
      // Under API Gateway's 29 s: legacy's timeout (3 s) plus retries fit with room to answer.
      timeout: Duration.seconds(10),
      environment: {
        MIGRATION_ID: migration.id,
        CONTROL_TABLE_NAME: props.controlTable.tableName,
        LEGACY_TABLE_NAME: props.legacyTable.tableName,
        NEW_TABLE_NAME: props.newTable.tableName,
        PAGE_TOKEN_SECRET: props.pageTokenSecret ?? `${Names.uniqueId(this)}-${migration.id}`,
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
    this.function.addToRolePolicy(
      controlItemsStatement(
        props.controlTable,
        migration.id,
        // UpdateItem: the per-minute SHADOW# counters (atomic ADD) the control plane's guardrail reads.
        ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        'ReadMigrationControlItems',
      ),
    );
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
      // Execution logs need the account's API Gateway CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
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
    byId.addResource('query').addMethod('POST', integration, { requestValidator: validator });

    if (props.apiKey) {
      const plan = this.api.addUsagePlan('UsagePlan', {
        name: `dualread-${migration.id}-read`,
        throttle: { rateLimit: props.apiKey.rateLimit ?? 100, burstLimit: props.apiKey.burstLimit ?? 200 },
      });
      plan.addApiStage({ stage: this.api.deploymentStage });
      this.apiKey = this.api.addApiKey('ApiKey', { description: `dualread read API of ${migration.id}` });
      plan.addApiKey(this.apiKey);
    }

    this.serverErrorAlarm = anyCountAlarm(
      this,
      'ServerErrorAlarm',
      `The read API of migration ${migration.id} answered 5xx: a read failed although only a legacy failure ` +
        '(or FINALIZED with the new table down) may cause one. See docs/runbook.md "Dual-read API".',
      this.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }),
    );
    const latency = props.latencyAlarmThreshold ?? Duration.seconds(1);
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmDescription: `p99 latency of the read API of migration ${migration.id} is above ${latency.toMilliseconds()} ms.`,
      metric: this.api.metricLatency({ period: Duration.minutes(1), statistic: 'p99' }),
      threshold: latency.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.acknowledgeFindings();
  }

  private acknowledgeFindings(): void {
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
    // The account-level role API Gateway uses to write execution logs is created by CDK with the AWS
    // managed policy made for exactly that.
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The API Gateway account role needs exactly the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy to write execution logs.',
    });
  }
}
