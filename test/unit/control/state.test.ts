import { PHASE_ORDER } from '../../../core/control';

describe('Constant: PHASE_ORDER', () => {
  it('lists the phases in forward order', () => {
    expect(PHASE_ORDER).toEqual([
      'LEGACY_ONLY',
      'BACKFILLING',
      'SHADOW',
      'DUAL_READ',
      'NEW_PRIMARY',
      'FINALIZED',
    ]);
  });
});
