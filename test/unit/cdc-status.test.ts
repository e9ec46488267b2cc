import { evaluateCdcConsumer, evaluateEventSourceMappings } from '../../core/cdc-status';

describe('Function: evaluateCdcConsumer', () => {
  const fresh = {
    streamArn: 'arn:aws:dynamodb:us-east-1:1:table/users/stream/x',
    startingPosition: 'TRIM_HORIZON',
    state: 'Enabled',
    since: 1_000,
    heartbeatAt: 10_000,
  };

  it.each([
    ['the poller has never run', undefined, false, /not running/],
    ['it is fresh, enabled and from TRIM_HORIZON', fresh, true, /consuming/],
    ['it started from LATEST', { ...fresh, startingPosition: 'LATEST' }, false, /TRIM_HORIZON/],
    ['it is disabled', { ...fresh, state: 'Disabled' }, false, /Disabled/],
    ['its heartbeat is stale', { ...fresh, heartbeatAt: 1_000 }, false, /stopped/],
    ['it reads another stream', { ...fresh, streamArn: 'other' }, false, /not the legacy stream/],
  ])('decides when %s', (_case, doc, consuming, reason) => {
    const status = evaluateCdcConsumer(doc, 12_000, fresh.streamArn, 5_000);
    expect(status.consuming).toBe(consuming);
    expect(status.reason).toMatch(reason);
  });
});

describe('Function: evaluateEventSourceMappings', () => {
  const stream = 'arn:aws:dynamodb:us-east-1:1:table/users/stream/x';

  it.each([
    ['there is no mapping', [], false],
    [
      'the mapping is disabled',
      [{ eventSourceArn: stream, state: 'Disabled', startingPosition: 'TRIM_HORIZON' }],
      false,
    ],
    [
      'the mapping started from LATEST',
      [{ eventSourceArn: stream, state: 'Enabled', startingPosition: 'LATEST' }],
      false,
    ],
    [
      'the mapping reads another stream',
      [{ eventSourceArn: 'other', state: 'Enabled', startingPosition: 'TRIM_HORIZON' }],
      false,
    ],
    [
      'an enabled TRIM_HORIZON mapping exists',
      [{ uuid: 'u', eventSourceArn: stream, state: 'Enabled', startingPosition: 'TRIM_HORIZON' }],
      true,
    ],
  ])('decides when %s', (_case, mappings, consuming) => {
    expect(evaluateEventSourceMappings(mappings, stream, 'sync-fn').consuming).toBe(consuming);
  });
});
