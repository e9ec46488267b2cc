/**
 * Merging of user overrides over construct defaults (the Solutions Constructs `overrideProps` idea).
 */

/**
 * `defaults` with every property of `overrides` that is not `undefined` laid over it (shallow).
 * Skipping `undefined` matters: `{ billingMode: undefined }` must keep on-demand billing rather than
 * fall back to CDK's own default (provisioned capacity).
 */
export function mergeProps<T extends object>(defaults: T, overrides: Partial<T> | undefined): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}
