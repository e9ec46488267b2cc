/**
 * `--faults` and `--fault-rate` of `dualread rehearse`: names checked against the catalog with a named
 * error that lists them, the rate a probability, and `all` picking every fault.
 */
import { Command } from 'commander';
import {
  FAULT_NAMES,
  FaultConfigError,
  faultCatalog,
  pickFaults,
  FAULT_DEFAULTS,
} from '../../../local/faults';
import { RehearsalOptionError, rehearsalOptions } from '../../../local/rehearsal/options';

function parse(...args: string[]) {
  const cmd = rehearsalOptions(new Command('rehearse')).exitOverride();
  cmd.parse(args, { from: 'user' });
  return cmd.opts<{ faults?: string[]; faultRate?: number }>();
}

describe('Options: --faults and --fault-rate', () => {
  it('takes comma-separated names and a rate', () => {
    expect(parse('--faults', 'new-outage, timeouts', '--fault-rate', '0.1')).toMatchObject({
      faults: ['new-outage', 'timeouts'],
      faultRate: 0.1,
    });
    expect(parse('--faults', 'all').faults).toEqual(['all']);
  });

  it('refuses an unknown name with a RehearsalOptionError listing the names', () => {
    expect(() => parse('--faults', 'meteor')).toThrow(RehearsalOptionError);
    expect(() => parse('--faults', 'meteor')).toThrow(/new-throttle, control-throttle/);
  });

  it.each(['0', '1.5', 'x', ''])('refuses the rate %j', (rate) => {
    expect(() => parse('--faults', 'all', '--fault-rate', rate)).toThrow(
      /--fault-rate must be a probability/,
    );
  });
});

describe('Function: pickFaults', () => {
  const catalog = faultCatalog({ tables: { legacy: 'l', new: 'n', control: 'c' }, ...FAULT_DEFAULTS });

  it('picks every fault for all, and none of them touches legacy', () => {
    const all = pickFaults(catalog, ['all']);
    expect(all.map((f) => f.name)).toEqual(FAULT_NAMES);
    for (const rule of all.flatMap((f) => f.rules)) {
      expect(rule.roles?.length).toBeGreaterThan(0);
      expect(rule.roles).not.toContain('legacy');
    }
  });

  it('names the unknown ones', () => {
    expect(() => pickFaults(catalog, ['timeouts', 'nope'])).toThrow(FaultConfigError);
    expect(() => pickFaults(catalog, ['timeouts', 'nope'])).toThrow(/unknown fault "nope"/);
  });
});
