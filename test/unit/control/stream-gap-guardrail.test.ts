/**
 * The stream-gap guardrail: while records trimmed before CDC read them may have left new missing or
 * stale writes (FRONTIER's gap open), no phase advances, not even forced; once closed, nothing is held.
 */
import { Phase, guardrailsFor } from '../../../core/control';
import { closeGap, openGap } from '../../../core/frontier';
import { DEFAULT_GUARDRAILS } from '../../../core/model';
import { NOW, metFacts } from '../../helpers/control-facts';

const gap = openGap(undefined, ['shardId-1'], NOW - 60_000, NOW - 120_000, NOW - 1000);

describe('Function: guardrailsFor (stream gap)', () => {
  it.each([Phase.BACKFILLING, Phase.SHADOW, Phase.DUAL_READ, Phase.NEW_PRIMARY, Phase.FINALIZED])(
    'refuses entering %s while a stream gap is open, not forcibly, and says what to run',
    (to) => {
      const facts = metFacts(to);
      const withGap = {
        ...facts,
        frontier: { ...(facts.frontier ?? metFacts(Phase.SHADOW).frontier!), gap },
      };

      const unmet = guardrailsFor(to, withGap, DEFAULT_GUARDRAILS).filter((g) => !g.met);

      expect(unmet.map((g) => [g.id, g.forcible])).toEqual([['stream-gap', false]]);
      expect(unmet[0]?.reason).toMatch(/shardId-1.*dualread recover stream-gap/);
    },
  );

  it('holds nothing once a clean verification closed the gap', () => {
    const facts = metFacts(Phase.DUAL_READ);
    const closed = closeGap(
      gap,
      { runId: 'v9', startedAt: NOW - 30_000, status: 'COMPLETE', clean: true },
      'ops',
      NOW,
    );
    const withClosed = { ...facts, frontier: { ...facts.frontier!, gap: closed } };

    expect(guardrailsFor(Phase.DUAL_READ, withClosed, DEFAULT_GUARDRAILS).filter((g) => !g.met)).toEqual([]);
  });
});
