/**
 * The read mix on AWS: how many reads the dual-read API served from each store over a recent window,
 * from the `ServedFromNew` / `ServedFromLegacy` metrics it publishes (namespace `dualread`, dimensions
 * `service=read-api` and `migrationId`) through CloudWatch `GetMetricData`. The client is injected
 * (tests mock it).
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';

/** Reads served per store over the window. */
export interface ReadMix {
  readonly windowMinutes: number;
  readonly fromNew: number;
  readonly fromLegacy: number;
  /** fromNew / (fromNew + fromLegacy); null without reads. */
  readonly newShare: number | null;
}

/** A client for `region` (the SDK's default chain without one). */
export function makeCloudWatchClient(region?: string): CloudWatchClient {
  return new CloudWatchClient(region ? { region } : {});
}

/** The read mix of `migrationId` over the `windowMinutes` before `now`. */
export async function readMix(
  cloudwatch: CloudWatchClient,
  migrationId: string,
  now: number,
  windowMinutes = 15,
): Promise<ReadMix> {
  const stat = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'dualread',
        MetricName: metricName,
        Dimensions: [
          { Name: 'service', Value: 'read-api' },
          { Name: 'migrationId', Value: migrationId },
        ],
      },
      Period: windowMinutes * 60,
      Stat: 'Sum',
    },
  });
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - windowMinutes * 60_000),
      EndTime: new Date(now),
      MetricDataQueries: [stat('fromNew', 'ServedFromNew'), stat('fromLegacy', 'ServedFromLegacy')],
    }),
  );
  const sum = (id: string) =>
    (out.MetricDataResults ?? [])
      .filter((r) => r.Id === id)
      .flatMap((r) => r.Values ?? [])
      .reduce((a, b) => a + b, 0);
  const fromNew = sum('fromNew');
  const fromLegacy = sum('fromLegacy');
  const total = fromNew + fromLegacy;
  return { windowMinutes, fromNew, fromLegacy, newShare: total > 0 ? fromNew / total : null };
}
