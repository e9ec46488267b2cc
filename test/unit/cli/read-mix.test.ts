import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { readMix } from '../../../adapters/read-mix';

describe('Function: readMix', () => {
  const cw = mockClient(CloudWatchClient);
  beforeEach(() => cw.reset());

  it('sums ServedFromNew and ServedFromLegacy of the migration over the window', async () => {
    // Arrange
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'fromNew', Values: [30, 10] },
        { Id: 'fromLegacy', Values: [60] },
      ],
    });
    const now = Date.parse('2026-12-04T20:00:00Z');

    // Act
    const mix = await readMix(new CloudWatchClient({ region: 'eu-west-1' }), 'users', now);

    // Assess
    expect(mix).toEqual({ windowMinutes: 15, fromNew: 40, fromLegacy: 60, newShare: 0.4 });
    const input = cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(input?.StartTime).toEqual(new Date(now - 15 * 60_000));
    expect(input?.MetricDataQueries?.[0]?.MetricStat?.Metric).toEqual({
      Namespace: 'dualread',
      MetricName: 'ServedFromNew',
      Dimensions: [
        { Name: 'service', Value: 'read-api' },
        { Name: 'migrationId', Value: 'users' },
      ],
    });
  });

  it('gives no share without reads', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    expect((await readMix(new CloudWatchClient({ region: 'eu-west-1' }), 'users', 0)).newShare).toBeNull();
  });
});
