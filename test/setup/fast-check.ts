/**
 * One fast-check configuration for every property test, applied by the jest setup file (env.ts).
 *
 * In CI (`CI=true`) every property runs with one fixed seed, so a red build is reproducible and a
 * green one means the same thing on every run; `FC_SEED=<integer>` overrides it (also locally, to
 * replay a failure). Locally, without `FC_SEED`, fast-check draws a random seed per property, so
 * repeated local runs keep exploring. Either way fast-check's failure report names the seed and the
 * shrink path (`{ seed: …, path: "…" }`); pass them back as `FC_SEED` to replay.
 */

/** The seed of CI runs. */
export const CI_SEED = 20_261_204;

/** The pinned seed for this environment, or undefined for a random one. */
export function fastCheckSeed(env: NodeJS.ProcessEnv): number | undefined {
  const given = env.FC_SEED;
  if (given !== undefined && given !== '') {
    if (!/^-?\d{1,10}$/.test(given) || (Number(given) | 0) !== Number(given)) {
      throw new Error(`FC_SEED "${given}" must be an integer (a 32-bit seed from a fast-check report)`);
    }
    return Number(given);
  }
  return env.CI === 'true' || env.CI === '1' ? CI_SEED : undefined;
}
