import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PowertoolsReadTelemetry, type ReadEvent } from '../../../lambdas/read/telemetry';

/** A Metrics stand-in that records what is added (names and values) and what dimensions are set. */
function recordingMetrics() {
  const added: Array<[string, number]> = [];
  const metrics = {
    addMetric: (name: string, _unit: string, value: number) => added.push([name, value]),
    addDimension: () => undefined,
    publishStoredMetrics: () => undefined,
  };
  return { added, metrics: metrics as unknown as Metrics };
}

const READ: ReadEvent = {
  migrationId: 'users',
  op: 'get',
  mode: 'bounded',
  route: 'new',
  reason: 'FRESH_ITEM_IN_NEW',
  status: 200,
  latencyMs: 7,
  stalenessBoundMs: 1000,
  fallback: false,
  hedged: false,
  shadow: false,
  clamped: false,
  breaker: 'closed',
};

describe('Class: PowertoolsReadTelemetry', () => {
  it('publishes, per read, the latency by store and mode, the store and the routing reason (the dashboard reads them)', () => {
    // Prepare
    const { added, metrics } = recordingMetrics();
    const telemetry = new PowertoolsReadTelemetry({ metrics, logger: { info: () => undefined } as never });

    // Act
    telemetry.read(READ, false);
    telemetry.read({ ...READ, route: 'legacy', mode: 'shadow', reason: 'HEDGED_TO_LEGACY' }, false);

    // Assess
    const names = added.map(([n]) => n);
    expect(names).toEqual(
      expect.arrayContaining([
        'ReadLatency.new.bounded',
        'ServedFromNew',
        'ReadsByReason.FRESH_ITEM_IN_NEW',
        'ReadLatency.legacy.shadow',
        'ServedFromLegacy',
        'ReadsByReason.HEDGED_TO_LEGACY',
      ]),
    );
  });
});
