import { DEFAULT_TIP_SETTINGS, type EmptyStreak, type TipSettings, emptyPage } from '../../../core/frontier';

const rule: TipSettings = { tipEmptyPages: 3, tipMinSpanMs: 1000 };

describe('Function: emptyPage', () => {
  it.each<[string, EmptyStreak | undefined, number, TipSettings, EmptyStreak, boolean]>([
    [
      'first empty page: a streak of one, no tip',
      undefined,
      5_000,
      rule,
      { pages: 1, firstAt: 5_000 },
      false,
    ],
    [
      'third page at once: enough pages, too short',
      { pages: 2, firstAt: 5_000 },
      5_020,
      rule,
      { pages: 3, firstAt: 5_000 },
      false,
    ],
    [
      'second page a second later: long enough, too few pages',
      { pages: 1, firstAt: 5_000 },
      6_000,
      rule,
      { pages: 2, firstAt: 5_000 },
      false,
    ],
    [
      'third page a second later: the tip',
      { pages: 2, firstAt: 5_000 },
      6_000,
      rule,
      { pages: 3, firstAt: 5_000 },
      true,
    ],
    [
      'later pages of an idle shard: each is the tip',
      { pages: 9, firstAt: 5_000 },
      60_000,
      rule,
      { pages: 10, firstAt: 5_000 },
      true,
    ],
    [
      'one page counts where the API has no empty pages before records',
      undefined,
      7_000,
      { tipEmptyPages: 1, tipMinSpanMs: 0 },
      { pages: 1, firstAt: 7_000 },
      true,
    ],
  ])('%s', (_name, streak, startedAt, settings, next, tip) => {
    // Act
    const out = emptyPage(streak, startedAt, settings);

    // Assess
    expect(out).toEqual({ streak: next, tip });
  });

  it('defaults to 3 pages over 1 s', () => {
    // Assess
    expect(DEFAULT_TIP_SETTINGS).toEqual({ tipEmptyPages: 3, tipMinSpanMs: 1000 });
  });
});
