import { isRetryable, withRetry } from '../../../adapters/retry';
import { recordedTiming } from '../../helpers/recorded-timing';

function fail(name: string, status?: number): Error {
  const e = new Error(name) as Error & { $metadata?: { httpStatusCode?: number } };
  e.name = name;
  if (status) e.$metadata = { httpStatusCode: status };
  return e;
}

describe('Function: withRetry', () => {
  const { sleeps, timing } = recordedTiming(4);
  beforeEach(() => sleeps.splice(0));

  it('retries throttling with growing jittered delays until it succeeds', async () => {
    // Prepare
    let calls = 0;
    const fn = async () => {
      calls++;
      if (calls < 3) throw fail('ProvisionedThroughputExceededException');
      return 'ok';
    };

    // Act
    const out = await withRetry(fn, timing);

    // Assess
    expect(out).toBe('ok');
    expect(sleeps).toEqual([5, 10]);
  });

  it('gives up after maxAttempts and rethrows the last error', async () => {
    await expect(withRetry(() => Promise.reject(fail('InternalServerError', 500)), timing)).rejects.toThrow(
      'InternalServerError',
    );
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a validation error', async () => {
    await expect(withRetry(() => Promise.reject(fail('ValidationException', 400)), timing)).rejects.toThrow(
      'ValidationException',
    );
    expect(sleeps).toHaveLength(0);
  });
});

describe('Function: isRetryable', () => {
  it.each([
    ['ThrottlingException', undefined, true],
    ['SomethingElse', 503, true],
    ['ConditionalCheckFailedException', 400, false],
    ['ValidationException', 400, false],
  ])('classifies %s (HTTP %p) as retryable=%p', (name, status, expected) => {
    expect(isRetryable(fail(name, status))).toBe(expected);
  });
});
