/** Consistency modes (core/read/consistency.ts): a requested mode against the phase default. */
import { effectiveMode } from '../../../core/read';

describe('Function: effectiveMode', () => {
  it('grants a stricter mode and clamps a looser one to the default', () => {
    expect(effectiveMode('bounded', 'strong')).toEqual({ mode: 'strong', clamped: false, explicit: true });
    expect(effectiveMode('shadow', 'bounded')).toEqual({ mode: 'shadow', clamped: true, explicit: false });
    expect(effectiveMode('legacy', undefined)).toEqual({ mode: 'legacy', clamped: false, explicit: false });
  });
});
