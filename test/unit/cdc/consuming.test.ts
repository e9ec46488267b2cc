import {
  DEFAULT_MAX_ITERATOR_AGE_MS,
  evaluateCdcConsumer,
  evaluateEventSourceMappings,
  iteratorAgeFromFrontier,
} from '../../../core/cdc';

const stream = 'arn:aws:dynamodb:us-east-1:1:table/users/stream/2026-01-01T00:00:00.000';
const newer = 'arn:aws:dynamodb:us-east-1:1:table/users/stream/2026-02-01T00:00:00.000';
const HOUR = 3_600_000;

describe('Function: evaluateCdcConsumer', () => {
  const fresh = {
    streamArn: stream,
    startingPosition: 'TRIM_HORIZON',
    state: 'Enabled',
    since: 1_000,
    heartbeatAt: 10_000,
    lastProcessingResult: 'OK',
    iteratorAgeMs: 2_000,
  };
  const current = { latestStreamArn: stream, expectedStreamArn: stream, maxHeartbeatAgeMs: 5_000 };

  it.each([
    ['the poller has never run', undefined, current, false, /not running/],
    ['it is fresh, enabled and from TRIM_HORIZON', fresh, current, true, /consuming/],
    ['it started from LATEST', { ...fresh, startingPosition: 'LATEST' }, current, false, /TRIM_HORIZON/],
    ['it is disabled', { ...fresh, state: 'Disabled' }, current, false, /Disabled/],
    ['its heartbeat is stale', { ...fresh, heartbeatAt: 1_000 }, current, false, /stopped/],
    ['it reads another stream', { ...fresh, streamArn: 'other' }, current, false, /not the legacy stream/],
    [
      'the table has a newer stream than the one it reads',
      fresh,
      { ...current, latestStreamArn: newer },
      false,
      /not the table's current stream.*2026-02-01/,
    ],
    [
      'the table has no stream any more',
      fresh,
      { ...current, latestStreamArn: undefined },
      false,
      /no stream/,
    ],
    [
      'its last batch failed',
      { ...fresh, lastProcessingResult: 'PROBLEM: the handler reported batch item failures' },
      current,
      false,
      /last processing result.*PROBLEM: the handler/,
    ],
    [
      'it is far behind the stream',
      { ...fresh, iteratorAgeMs: 2 * HOUR },
      current,
      false,
      /7200000 ms behind.*24-hour retention/,
    ],
    [
      'it does not report how far behind it is',
      { ...fresh, iteratorAgeMs: undefined },
      current,
      false,
      /cannot tell how far behind/,
    ],
  ])('decides when %s', (_case, doc, options, consuming, reason) => {
    // Act
    const status = evaluateCdcConsumer(doc, 12_000, options);

    // Assess
    expect(status.consuming).toBe(consuming);
    expect(status.reason).toMatch(reason);
  });
});

describe('Function: evaluateEventSourceMappings', () => {
  const good = {
    uuid: 'u',
    eventSourceArn: stream,
    state: 'Enabled',
    startingPosition: 'TRIM_HORIZON',
    lastProcessingResult: 'OK',
  };
  const healthy = { latestStreamArn: stream, iteratorAge: { ageMs: 3_000, source: 'frontier' } };

  it.each([
    ['there is no mapping', [], healthy, false, /no event source mapping/],
    ['the mapping is disabled', [{ ...good, state: 'Disabled' }], healthy, false, /Disabled/],
    ['the mapping started from LATEST', [{ ...good, startingPosition: 'LATEST' }], healthy, false, /LATEST/],
    ['the mapping reads another stream', [{ ...good, eventSourceArn: 'other' }], healthy, false, /no event/],
    ['an enabled TRIM_HORIZON mapping exists', [good], healthy, true, /Enabled from TRIM_HORIZON/],
    [
      'the configured stream is not the table current stream',
      [good],
      { ...healthy, latestStreamArn: newer },
      false,
      /not the table's current stream.*2026-02-01.*legacyTable.streamArn/,
    ],
    ['the table has no stream', [good], { ...healthy, latestStreamArn: undefined }, false, /no stream/],
    [
      'the last processing result is a problem',
      [{ ...good, lastProcessingResult: 'PROBLEM: Function call failed' }],
      healthy,
      false,
      /PROBLEM: Function call failed/,
    ],
    [
      'nothing was processed yet',
      [{ ...good, lastProcessingResult: 'No records processed' }],
      healthy,
      true,
      /Enabled/,
    ],
    [
      'the iterator age is near the retention',
      [good],
      { ...healthy, iteratorAge: { ageMs: 20 * HOUR, source: 'the frontier' } },
      false,
      /72000000 ms behind the stream \(the frontier\)/,
    ],
    [
      'the iterator age is just under the limit',
      [good],
      { ...healthy, iteratorAge: { ageMs: DEFAULT_MAX_ITERATOR_AGE_MS, source: 'f' } },
      true,
      /Enabled/,
    ],
    [
      'the iterator age is unknown',
      [good],
      { ...healthy, iteratorAge: { source: 'no frontier published yet' } },
      false,
      /cannot tell how far behind.*no frontier published yet/,
    ],
  ])('decides when %s', (_case, mappings, health, consuming, reason) => {
    // Act
    const status = evaluateEventSourceMappings(mappings, stream, 'sync-fn', health);

    // Assess
    expect(status.consuming).toBe(consuming);
    expect(status.reason).toMatch(reason);
  });
});

describe('Function: iteratorAgeFromFrontier', () => {
  it.each([
    ['no frontier item', undefined, undefined, /no frontier/],
    ['a frontier of 0', { frontier: 0, computedAt: 90_000 }, undefined, /no frontier/],
    ['a frontier 30 s old', { frontier: 70_000, computedAt: 99_000 }, 30_000, /frontier/],
    ['a frontier in the future (clock skew)', { frontier: 101_000, computedAt: 99_000 }, 0, /frontier/],
  ])('bounds the iterator age from %s', (_case, frontier, ageMs, source) => {
    // Act
    const reading = iteratorAgeFromFrontier(frontier, 100_000);

    // Assess
    expect(reading.ageMs).toBe(ageMs);
    expect(reading.source).toMatch(source);
  });
});
