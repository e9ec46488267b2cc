import {
  DEFAULT_RATE_TUNING,
  controlsOf,
  defaultBackfillRate,
  effectiveRateLimit,
  initialRate,
  lowerRate,
  raiseRate,
} from '../../../core/backfill';
import { initialState } from '../../../core/control';

describe('defaultBackfillRate', () => {
  it('takes a share of a provisioned legacy table’s reads (8 KB per RCU) at its average item size', () => {
    const r = defaultBackfillRate(
      {
        billingMode: 'PROVISIONED',
        readCapacityUnits: 100,
        writeCapacityUnits: 5,
        itemCount: 1000,
        sizeBytes: 2_048_000,
      },
      { billingMode: 'PAY_PER_REQUEST' },
    );
    // 100 RCU × 0.5 × 8192 / 2048 B = 200 items/s; new on-demand 1000 items/s: the lower wins
    expect(r.ceiling).toBe(200);
    expect(r.basis).toContain('legacy 100 RCU × 0.5');
  });

  it('is bounded by a provisioned new table’s writes (1 WCU per KB, metadata included)', () => {
    const fresh = { billingMode: 'PROVISIONED', readCapacityUnits: 10, writeCapacityUnits: 50 } as const;
    // 900 B + 100 B metadata fit 1 KB: 50 WCU × 0.5 / 1 = 25 items/s
    expect(
      defaultBackfillRate({ billingMode: 'PAY_PER_REQUEST', itemCount: 10, sizeBytes: 9_000 }, fresh).ceiling,
    ).toBe(25);
    // 1000 B + 100 B take 2 WCU: 12 items/s
    expect(
      defaultBackfillRate({ billingMode: 'PAY_PER_REQUEST', itemCount: 10, sizeBytes: 10_000 }, fresh)
        .ceiling,
    ).toBe(12);
  });

  it('uses the stated on-demand rate, and 1 KB items when DescribeTable has no figures yet', () => {
    expect(
      defaultBackfillRate({ billingMode: 'PAY_PER_REQUEST' }, { billingMode: 'PAY_PER_REQUEST' }).ceiling,
    ).toBe(1000);
    expect(
      defaultBackfillRate(
        { billingMode: 'PROVISIONED', readCapacityUnits: 10, itemCount: 0, sizeBytes: 0 },
        undefined,
        {
          capacityShare: 0.25,
          onDemandRatePerSecond: 1000,
        },
      ).ceiling,
    ).toBe(20); // 10 × 0.25 × 8192 / 1024
  });
});

describe('adaptive rate (AIMD)', () => {
  const t = { ...DEFAULT_RATE_TUNING, decreaseCooldownMs: 2_000, increaseEveryMs: 10_000 };

  it('halves on throttling, once per cooldown, never below the floor', () => {
    const r0 = initialRate(400, 'test', 0);
    const r1 = lowerRate(r0, 999, 1_000, t);
    expect(r1).toMatchObject({ inForce: 200, throttles: 1, loweredAt: 1_000 });
    expect(lowerRate(r1!, 999, 2_500, t)).toBeUndefined();
    expect(lowerRate(r1!, 999, 3_000, t)?.inForce).toBe(100);
    expect(lowerRate({ ...r0, inForce: 1 }, 0, 0, t)?.inForce).toBe(1);
  });

  it('starts from the observed rate when no rate was in force (unlimited)', () => {
    expect(lowerRate(initialRate(0, 'none', 0), 900, 5_000, t)?.inForce).toBe(450);
  });

  it('climbs back by a tenth of the ceiling per clean interval, up to the ceiling', () => {
    let r = { ...initialRate(400, 'test', 0), inForce: 200 };
    expect(raiseRate(r, 9_999, t)).toBeUndefined();
    const seen: number[] = [];
    for (let now = 10_000; r.inForce < 400; now += 10_000) {
      r = raiseRate(r, now, t) ?? r;
      seen.push(r.inForce);
    }
    expect(seen).toEqual([240, 280, 320, 360, 400]);
    expect(raiseRate(r, 1e9, t)).toBeUndefined();
  });

  it('pages obey the lower of the operator cap and the rate in force', () => {
    expect(effectiveRateLimit(0, undefined)).toBe(0);
    expect(effectiveRateLimit(0, initialRate(300, '', 0))).toBe(300);
    expect(effectiveRateLimit(100, initialRate(300, '', 0))).toBe(100);
    const state = {
      ...initialState('m', 0, 0),
      backfill: { status: 'RUNNING' as const, rate: { ...initialRate(300, '', 0), inForce: 150 } },
    };
    expect(controlsOf(state, 0).rateLimitPerSecond).toBe(150);
  });
});
