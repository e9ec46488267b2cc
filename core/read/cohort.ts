/**
 * Deterministic cohorts for rollout (docs/design.md §5): a stable hash of (salt, routing key) into 10,000
 * buckets. The same key always lands in the same bucket for a given salt, so a key's route only
 * changes when the rollout percentage (or the salt) does, and raising the percentage only ever adds
 * keys to the cohort (bucket < threshold is monotone in the threshold).
 */
import { createHash } from 'node:crypto';

/** Number of cohort buckets: a rollout percentage has a resolution of 0.01 point. */
export const COHORT_BUCKETS = 10_000;

/**
 * The bucket (0..9,999) of a routing key. SHA-256 of `salt`, a NUL separator and the key; the first
 * six bytes as an integer modulo 10,000. Six bytes (2^48) keep the modulo bias below 10^-10.
 */
export function cohortBucket(salt: string, routingKey: string): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(routingKey).digest();
  return digest.readUIntBE(0, 6) % COHORT_BUCKETS;
}

/**
 * True if a bucket is inside a rollout of `rolloutPercent` (0..100, fractions to 0.01 allowed):
 * buckets `0 .. rolloutPercent*100 - 1` are in.
 */
export function inRollout(bucket: number, rolloutPercent: number): boolean {
  const threshold = Math.round(Math.min(100, Math.max(0, rolloutPercent)) * (COHORT_BUCKETS / 100));
  return bucket < threshold;
}
