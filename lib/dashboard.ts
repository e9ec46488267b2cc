/**
 * `MigrationDashboard`: one CloudWatch dashboard per migration, built only from metrics the handlers
 * publish (Powertools EMF, namespace `dualread`, dimensions `service` and `migrationId`) and the AWS
 * metrics of its resources: phase and rollout, backfill progress, CDC and frontier lag, the read mix by
 * store and routing reason, read latency p50/p99 per store and mode, shadow mismatches by class,
 * dead-letter depth and verification results.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { PHASE_ORDER } from '../core/control';
import { ConsistencyMode, type Migration } from '../core/model';
import { RouteReason, ShadowClass, Store } from '../core/read';
import { type MetricSource, migrationMetric } from './alarms-grants';
import { BackfillMetrics } from './backfill';
import { FrontierMetrics } from './frontier-tracker';
import { ReadApiMetrics } from './read-api';
import type { StreamSync } from './stream-sync';
import { SyncMetrics } from './stream-sync';
import { VerifyMetrics } from './verification';

/** Props of `MigrationDashboard`. */
export interface MigrationDashboardProps {
  readonly migration: Migration;
  /** The dashboard's name (letters, digits, `-` and `_`). */
  readonly dashboardName: string;
  /** The stream sync: its function's iterator age and its dead-letter queue. */
  readonly streamSync: StreamSync;
}

type Statistic = 'Sum' | 'Maximum' | 'Average' | 'p50' | 'p99';

const WIDTH = 12;
const HEIGHT = 6;
const PERIOD = Duration.minutes(1);

/** The dashboard of one migration. */
export class MigrationDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MigrationDashboardProps) {
    super(scope, id);
    const { migration, streamSync } = props;
    const metric = (source: MetricSource, name: string, statistic: Statistic, label?: string) =>
      migrationMetric(source, name, migration.id, statistic, PERIOD).with(label ? { label } : {});
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      options: Partial<cloudwatch.GraphWidgetProps> = {},
    ) => new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...options });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# dualread: migration ${migration.id}\n` +
          `\`${migration.legacyTable.tableName}\` → \`${migration.newTable.tableName}\`. Phase: ` +
          PHASE_ORDER.map((p, i) => `${i} ${p}`).join(', ') +
          '. Alarms and what to do: docs/runbook.md.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Phase (0-5) and rollout %', [metric(FrontierMetrics, 'Phase', 'Maximum', 'phase')], {
        right: [metric(FrontierMetrics, 'RolloutPercent', 'Maximum', 'rollout %')],
        leftYAxis: { min: 0, max: PHASE_ORDER.length - 1 },
        rightYAxis: { min: 0, max: 100 },
      }),
      graph(
        'Backfill progress (items per minute)',
        [
          metric(BackfillMetrics, 'BackfillItemsScanned', 'Sum', 'scanned'),
          metric(BackfillMetrics, BackfillMetrics.ITEMS_COPIED, 'Sum', 'copied'),
          metric(BackfillMetrics, 'BackfillPoisonItems', 'Sum', 'poison'),
          metric(BackfillMetrics, 'BackfillThrottledRetries', 'Sum', 'throttled retries'),
        ],
        { right: [metric(BackfillMetrics, 'BackfillRateInForce', 'Average', 'rate in force (items/s)')] },
      ),
    );
    this.dashboard.addWidgets(
      graph('CDC lag: iterator age and record age (ms)', [
        streamSync.function.metric('IteratorAge', {
          statistic: 'Maximum',
          period: PERIOD,
          label: 'iterator age',
        }),
        metric(SyncMetrics, SyncMetrics.RECORD_AGE, 'Maximum', 'oldest record applied'),
      ]),
      graph('Frontier lag (s)', [metric(FrontierMetrics, FrontierMetrics.LAG, 'Maximum', 'frontier lag')], {
        right: [metric(FrontierMetrics, FrontierMetrics.PENDING, 'Maximum', 'pending records')],
      }),
    );
    this.dashboard.addWidgets(
      graph(
        'Reads by store',
        [
          metric(ReadApiMetrics, 'ServedFromNew', 'Sum', 'new'),
          metric(ReadApiMetrics, 'ServedFromLegacy', 'Sum', 'legacy'),
        ],
        { stacked: true },
      ),
      graph(
        'Reads by routing reason',
        Object.values(RouteReason).map((r) => metric(ReadApiMetrics, `ReadsByReason.${r}`, 'Sum', r)),
        { stacked: true },
      ),
    );
    const latency = (stat: 'p50' | 'p99') =>
      Object.values(Store).flatMap((store) =>
        Object.values(ConsistencyMode).map((mode) =>
          metric(ReadApiMetrics, `ReadLatency.${store}.${mode}`, stat, `${store} ${mode}`),
        ),
      );
    this.dashboard.addWidgets(
      graph('Read latency p50 (ms) by store and mode', latency('p50')),
      graph('Read latency p99 (ms) by store and mode', latency('p99')),
    );
    this.dashboard.addWidgets(
      graph(
        'Shadow comparisons by class',
        Object.values(ShadowClass)
          .filter((c) => c !== ShadowClass.MATCH)
          .map((c) => metric(ReadApiMetrics, `ShadowComparisons.${c}`, 'Sum', c)),
        { right: [metric(ReadApiMetrics, `ShadowComparisons.${ShadowClass.MATCH}`, 'Sum', 'match')] },
      ),
      graph(
        'Dead letters',
        [
          streamSync.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: PERIOD,
            label: 'CDC dead-letter queue depth',
          }),
        ],
        {
          right: [
            metric(FrontierMetrics, 'FrontierDeadLettered', 'Maximum', 'dead-lettered records (tracker)'),
          ],
        },
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Verification results (per run)',
        [
          metric(VerifyMetrics, 'VerifyMatch', 'Sum', 'match'),
          metric(VerifyMetrics, VerifyMetrics.CONFIRMED_DRIFT, 'Sum', 'confirmed drift'),
          metric(VerifyMetrics, VerifyMetrics.UNCONFIRMED_LAG, 'Sum', 'unconfirmed lag'),
          metric(VerifyMetrics, 'VerifyRepaired', 'Sum', 'repaired'),
        ],
        { right: [metric(VerifyMetrics, 'VerifyClean', 'Maximum', 'clean (1)')], period: Duration.hours(1) },
      ),
    );
  }
}
