/**
 * The alarms of the dual-read API, from the API Gateway stage's metrics and the read Lambda's
 * Powertools metrics (namespace `dualread`, service `dualread-read`, dimension `migrationId`; see
 * docs/architecture.md "Dual-read API"): server errors (any, and a rate for automatic rollback),
 * latency, confirmed shadow mismatches (any, and a rate for automatic rollback), the new-table
 * circuit breaker and new-table read errors.
 *
 * A function, not a construct: the alarms are created in the caller's scope, so their construct paths
 * (and logical ids) are the caller's own.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { ShadowClass } from '../core/read';
import { anyCountAlarm, type MetricSource, migrationMetric } from './alarms-grants';

/** Thresholds of the read alarms. */
export interface ReadAlarmThresholds {
  /** p99 latency above which the latency alarm fires. */
  readonly latency: Duration;
  /** Fraction of requests answered 5xx (0..1) above which the rollback alarm fires. */
  readonly serverErrorRate: number;
  /** Fraction of shadow comparisons confirmed as mismatches (0..1) above which the rollback alarm fires. */
  readonly shadowMismatchRate: number;
}

/** The read alarms. */
export interface ReadAlarms {
  readonly serverErrorAlarm: cloudwatch.Alarm;
  readonly serverErrorRateAlarm: cloudwatch.Alarm;
  readonly latencyAlarm: cloudwatch.Alarm;
  readonly shadowMismatchAlarm: cloudwatch.Alarm;
  readonly shadowMismatchRateAlarm: cloudwatch.Alarm;
  readonly newBreakerOpenAlarm: cloudwatch.Alarm;
  readonly newStoreErrorsAlarm: cloudwatch.Alarm;
}

/** Shadow classes that are a confirmed difference (re-checked past `F`): all but match and within-lag. */
export const CONFIRMED_MISMATCH_CLASSES = [
  ShadowClass.MISSING,
  ShadowClass.EXTRA,
  ShadowClass.CONTENT,
  ShadowClass.UNMAPPABLE,
] as const;

/** Creates the read alarms of migration `migrationId` in `scope`. */
export function createReadAlarms(
  scope: Construct,
  api: apigateway.RestApi,
  source: MetricSource,
  migrationId: string,
  thresholds: ReadAlarmThresholds,
): ReadAlarms {
  const minute = Duration.minutes(1);
  const metric = (name: string, statistic: 'Sum' | 'Maximum', period = minute): cloudwatch.Metric =>
    migrationMetric(source, name, migrationId, statistic, period);
  /** The confirmed mismatch classes as metrics m0..m3 of `period`, and the expression of their sum. */
  const mismatches = (period: Duration) => {
    const metrics: Record<string, cloudwatch.IMetric> = {};
    CONFIRMED_MISMATCH_CLASSES.forEach((c, i) => {
      metrics[`m${i}`] = metric(`ShadowComparisons.${c}`, 'Sum', period);
    });
    const sum = Object.keys(metrics)
      .map((k) => `FILL(${k}, 0)`)
      .join(' + ');
    return { metrics, sum };
  };

  const serverErrorAlarm = anyCountAlarm(
    scope,
    'ServerErrorAlarm',
    `The read API of migration ${migrationId} answered 5xx: a read failed although only a legacy failure ` +
      '(or FINALIZED with the new table down) may cause one. See docs/runbook.md "Dual-read API".',
    api.metricServerError({ period: minute, statistic: 'Sum' }),
  );
  // The stage's 5XXError averaged over requests is the fraction of requests answered 5xx.
  const serverErrorRateAlarm = new cloudwatch.Alarm(scope, 'ServerErrorRateAlarm', {
    alarmDescription:
      `More than ${pct(thresholds.serverErrorRate)} of the reads of migration ${migrationId} answered 5xx in 3 of ` +
      '5 minutes. Rollback alarm: dual read goes back to SHADOW. See docs/runbook.md "Dual-read API".',
    metric: api.metricServerError({ period: minute, statistic: 'Average' }),
    threshold: thresholds.serverErrorRate,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const latencyAlarm = new cloudwatch.Alarm(scope, 'LatencyAlarm', {
    alarmDescription: `p99 latency of the read API of migration ${migrationId} is above ${thresholds.latency.toMilliseconds()} ms.`,
    metric: api.metricLatency({ period: minute, statistic: 'p99' }),
    threshold: thresholds.latency.toMilliseconds(),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  const perMinute = mismatches(minute);
  const confirmed = new cloudwatch.MathExpression({
    expression: perMinute.sum,
    usingMetrics: perMinute.metrics,
    label: 'Confirmed shadow mismatches',
    period: minute,
  });
  const shadowMismatchAlarm = anyCountAlarm(
    scope,
    'ShadowMismatchAlarm',
    `The read API of migration ${migrationId} confirmed a shadow mismatch (missing, extra, content or unmappable, ` +
      're-checked past F): new holds a wrong item. See docs/runbook.md "Shadow mismatches".',
    confirmed,
  );
  const fiveMinutes = Duration.minutes(5);
  const perFive = mismatches(fiveMinutes);
  const shadowMismatchRateAlarm = new cloudwatch.Alarm(scope, 'ShadowMismatchRateAlarm', {
    alarmDescription:
      `More than ${pct(thresholds.shadowMismatchRate)} of the shadow comparisons of migration ${migrationId} were ` +
      'confirmed mismatches over 5 minutes. Rollback alarm: dual read goes back to SHADOW. See docs/runbook.md ' +
      '"Shadow mismatches".',
    metric: new cloudwatch.MathExpression({
      // No comparisons: rate 0, not missing data.
      expression: `IF(FILL(total, 0) > 0, (${perFive.sum}) / total, 0)`,
      usingMetrics: { ...perFive.metrics, total: metric('ShadowComparisons', 'Sum', fiveMinutes) },
      label: 'Confirmed shadow mismatch rate',
      period: fiveMinutes,
    }),
    threshold: thresholds.shadowMismatchRate,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  const newBreakerOpenAlarm = new cloudwatch.Alarm(scope, 'NewBreakerOpenAlarm', {
    alarmDescription:
      `The new-table circuit breaker of the read API of migration ${migrationId} has been open for 3 minutes: ` +
      'reads fall back to legacy. See docs/runbook.md "Dual-read API".',
    metric: metric('NewBreakerOpen', 'Maximum'),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const newStoreErrorsAlarm = new cloudwatch.Alarm(scope, 'NewStoreErrorsAlarm', {
    alarmDescription:
      `Reads of the new table by the read API of migration ${migrationId} failed or timed out in 3 consecutive ` +
      'minutes (legacy answered instead). See docs/runbook.md "Dual-read API".',
    metric: metric('NewStoreErrors', 'Sum'),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return {
    serverErrorAlarm,
    serverErrorRateAlarm,
    latencyAlarm,
    shadowMismatchAlarm,
    shadowMismatchRateAlarm,
    newBreakerOpenAlarm,
    newStoreErrorsAlarm,
  };
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))} %`;
}
