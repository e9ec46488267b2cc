/**
 * The fast-check seed is pinned in CI, overridable with FC_SEED, random locally, and every failure
 * report names it.
 */
import fc from 'fast-check';
import { CI_SEED, fastCheckSeed } from '../../setup/fast-check';

describe('Function: fastCheckSeed', () => {
  it.each([
    [{ CI: 'true' }, CI_SEED],
    [{ CI: '1' }, CI_SEED],
    [{ CI: 'true', FC_SEED: '42' }, 42],
    [{ FC_SEED: '-7' }, -7],
    [{}, undefined],
    [{ CI: 'false' }, undefined],
  ])('for %j pins %p', (env, expected) => {
    expect(fastCheckSeed(env)).toBe(expected);
  });

  it('refuses an FC_SEED that is not an integer, naming the variable', () => {
    expect(() => fastCheckSeed({ FC_SEED: 'abc' })).toThrow(/FC_SEED "abc" must be an integer/);
  });
});

describe('Global fast-check configuration', () => {
  it('follows the environment of this run (set up once for every test file)', () => {
    expect(fc.readConfigureGlobal().seed).toBe(fastCheckSeed(process.env));
  });

  it('reports the seed of a failing property', () => {
    // Act
    let message = '';
    try {
      fc.assert(fc.property(fc.integer(), (n) => n !== n));
    } catch (err) {
      message = (err as Error).message;
    }

    // Assess
    expect(message).toMatch(/seed: -?\d+, path: "[\d:]*"/);
    const pinned = fastCheckSeed(process.env);
    if (pinned !== undefined) expect(message).toContain(`seed: ${pinned},`);
  });
});
