import { FrontierConfigError, type TrackerConfig, validateTrackerConfig } from '../../../core/frontier';

describe('Function: validateTrackerConfig', () => {
  it('returns a config whose settings are in range (unset settings are not checked)', () => {
    const config = { clockSkewMs: 0, readConcurrency: 1 } as TrackerConfig;
    expect(validateTrackerConfig(config)).toBe(config);
  });

  it.each<[string, Partial<TrackerConfig>, string]>([
    [
      'a negative margin',
      { propagationMarginMs: -1 },
      'propagationMarginMs: -1 is not a non-negative number of milliseconds',
    ],
    [
      'an infinite skew',
      { clockSkewMs: Infinity },
      'clockSkewMs: Infinity is not a non-negative number of milliseconds',
    ],
    ['a zero concurrency', { readConcurrency: 0 }, 'readConcurrency: 0 is not a whole number of at least 1'],
    [
      'a fractional page count',
      { maxPagesPerShard: 1.5 },
      'maxPagesPerShard: 1.5 is not a whole number of at least 1',
    ],
    [
      'both kinds wrong: the non-negative settings are checked first',
      { tipEmptyPages: 0, childListingWaitMs: -5 },
      'childListingWaitMs: -5 is not a non-negative number of milliseconds',
    ],
  ])('refuses %s', (_name, settings, message) => {
    const run = () => validateTrackerConfig(settings as TrackerConfig);
    expect(run).toThrow(FrontierConfigError);
    expect(run).toThrow(`frontier tracker setting ${message}`);
  });
});
