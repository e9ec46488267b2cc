/**
 * `clock-skew`: the component that decides whether a read-API clock skew voids the bounded guarantee
 * (within the margin: judged as usual; beyond it: a `voided` entry naming the bounded reads the checker
 * failed), the skewed clock given to the read handler, and `--clock-skew`'s parsing.
 */
import { Command } from 'commander';
import { usersMigration } from '../../../examples/users/migration';
import {
  FaultConfigError,
  RehearsalFaults,
  defaultSkewMs,
  skewVerdict,
  skewVoided,
} from '../../../local/faults';
import { RehearsalOptionError, rehearsalOptions, runRehearsal } from '../../../local/rehearsal/options';

const tables = { legacy: 'users', new: 'app-data', control: 'control' };
const bounded = (failures: number) => ({
  name: 'bounded-within-budget',
  passed: failures === 0,
  checked: 40,
  failures,
  examples: failures
    ? ['key {"userId":{"S":"k-7"}}: bounded read in DUAL_READ carried bound 6100 ms\n    #3 put']
    : [],
});
const other = { name: 'convergence', passed: true, checked: 800, failures: 0, examples: [] };

describe('clock-skew: the verdict', () => {
  it('keeps a skew within the margin (either sign, the margin itself included)', () => {
    for (const skew of [0, 500, -500, 1000, -1000])
      expect(skewVerdict(skew, 1000)).toEqual({ skewMs: skew, marginMs: 1000, withinMargin: true });
    expect(defaultSkewMs(1000)).toBe(500);
  });

  it('voids the bounded guarantee beyond the margin, saying by how much and what to do', () => {
    for (const skew of [1001, -2500]) {
      const v = skewVerdict(skew, 1000);
      expect(v.withinMargin).toBe(false);
      expect(v.voided).toMatch(/beyond the migration's clock-skew margin of 1000 ms.*guarantee is void/);
      expect(v.voided).toContain(`${skew > 0 ? '+' : ''}${skew} ms`);
    }
  });

  it('names the bounded reads the checker failed, or says none failed, only beyond the margin', () => {
    expect(skewVoided(skewVerdict(400, 1000), [bounded(3), other])).toBeUndefined();
    const named = skewVoided(skewVerdict(3000, 1000), [bounded(3), other]);
    expect(named).toMatch(/failed: 3 of 40 \(first: key \{"userId":\{"S":"k-7"\}\}: bounded read/);
    expect(named).not.toContain('#3 put');
    expect(skewVoided(skewVerdict(-3000, 1000), [bounded(0)])).toMatch(/failed: 0 of 40 \(none this time/);
  });
});

describe('clock-skew: in a rehearsal', () => {
  it("shifts the read API's clock by the skew (default half the margin), and only with the fault", () => {
    const at = () => 1_000_000;
    const half = new RehearsalFaults({ names: ['clock-skew'] }, tables, 1, at, usersMigration);
    expect(half.readClock(at)?.()).toBe(1_000_000 + usersMigration.read.clockSkewMs / 2);
    const back = new RehearsalFaults(
      { names: ['clock-skew'], clockSkewMs: -700 },
      tables,
      1,
      at,
      usersMigration,
    );
    expect(back.readClock(at)?.()).toBe(999_300);
    expect(
      new RehearsalFaults({ names: ['timeouts'] }, tables, 1, at, usersMigration).readClock(at),
    ).toBeUndefined();
    expect(
      () => new RehearsalFaults({ names: ['timeouts'], clockSkewMs: 5 }, tables, 1, at, usersMigration),
    ).toThrow(FaultConfigError);
  });

  it('reports a voided entry beyond the margin and none within it', () => {
    const within = new RehearsalFaults({ names: ['clock-skew'] }, tables, 1, Date.now, usersMigration);
    expect(within.report([bounded(0), other]).voided).toEqual([]);
    expect(within.report([bounded(0), other]).answers.clockSkew).toEqual({
      skewMs: 500,
      marginMs: 1000,
      withinMargin: true,
    });
    const beyond = new RehearsalFaults(
      { names: ['clock-skew'], clockSkewMs: 4000 },
      tables,
      1,
      Date.now,
      usersMigration,
    );
    const r = beyond.report([bounded(2), other]);
    expect(r.voided).toEqual([expect.stringMatching(/^clock-skew: .*\+4000 ms.*failed: 2 of 40/)]);
    expect(r.verdicts['bounded-within-budget']).toBe(false);
  });
});

describe('clock-skew: --clock-skew', () => {
  const parse = (...args: string[]) =>
    rehearsalOptions(new Command('rehearse')).exitOverride().parse(args, { from: 'user' }).opts<{
      clockSkew?: number;
    }>();

  it('takes a signed whole number of ms and refuses anything else by name', () => {
    expect(parse('--faults', 'clock-skew', '--clock-skew', '-1500').clockSkew).toBe(-1500);
    for (const bad of ['1.5', 'soon', '', '99999999'])
      expect(() => parse('--clock-skew', bad)).toThrow(RehearsalOptionError);
  });

  it('refuses --clock-skew without the clock-skew fault', async () => {
    await expect(
      runRehearsal({
        items: 1,
        writeRate: 1,
        readRate: 1,
        duration: 1,
        seed: 1,
        json: false,
        faults: ['timeouts'],
        clockSkew: 100,
      }),
    ).rejects.toThrow(/--clock-skew needs --faults clock-skew/);
  });
});
