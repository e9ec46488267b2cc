/**
 * What the control plane changes in the read path: shadow comparisons counted for the SHADOW
 * guardrail, and the operator's overrides (`dualread settings`) applied within the cache interval.
 */
import { Phase } from '../../../core/control';
import { read } from '../../helpers/api-events';
import { setup } from '../../helpers/memory-read';

describe('Read path under the control plane', () => {
  it('counts every shadow comparison by class in the counters, and only compared reads', async () => {
    const counted: Array<[string, number]> = [];
    const s = setup(Phase.SHADOW, { counters: { record: (cls, at) => counted.push([cls, at]) } });
    await read(s.handler, 'u-1', { 'x-consistency': 'shadow' });
    await read(s.handler, 'u-1', { 'x-consistency': 'legacy' });
    await s.handler.drain();
    expect(counted).toEqual([['match', s.clock.now()]]);
  });

  it('applies an operator’s default-consistency override from STATE', async () => {
    const s = setup(Phase.NEW_PRIMARY);
    expect((await read(s.handler)).headers).toMatchObject({ 'x-served-by': 'new' });
    s.setState({ settings: { defaultConsistency: 'legacy' } });
    s.clock.advance(60_000);
    expect((await read(s.handler)).headers).toMatchObject({ 'x-served-by': 'legacy' });
  });

  it('applies an operator’s staleness-budget override from STATE', async () => {
    const s = setup(Phase.NEW_PRIMARY, { options: { controlWaitMs: 1000 } });
    s.setState({ settings: { stalenessBudgetMs: 0 } });
    const r = await read(s.handler);
    expect(r.headers).toMatchObject({ 'x-served-by': 'legacy' });
  });
});
