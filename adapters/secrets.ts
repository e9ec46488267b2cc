/**
 * Secrets from AWS Secrets Manager, read with Powertools Parameters (`getSecret`) and cached for
 * `maxAgeSeconds`, so a warm function asks Secrets Manager at most once per interval and picks up a
 * rotated value within it. Used for the read API's page-token secret (`PAGE_TOKEN_SECRET_ARN`).
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DualReadError } from '../core/common';

/** A secret could not be read, or is empty or binary. */
export class SecretUnavailableError extends DualReadError {}

/** Default cache lifetime of a secret: 5 minutes. */
export const SECRET_MAX_AGE_SECONDS = 300;

/**
 * A source of the secret string stored under `secretId` (ARN or name), cached for `maxAgeSeconds`.
 *
 * @throws SecretUnavailableError (from the source) when the secret is missing, empty or binary
 */
export function secretsManagerSecret(
  secretId: string,
  maxAgeSeconds = SECRET_MAX_AGE_SECONDS,
): () => Promise<string> {
  return async () => {
    let value: unknown;
    try {
      value = await getSecret(secretId, { maxAge: maxAgeSeconds });
    } catch (err) {
      throw new SecretUnavailableError(
        `cannot read secret ${secretId} from Secrets Manager (${(err as Error).name}: ${(err as Error).message}); ` +
          'check that it exists and that the function may secretsmanager:GetSecretValue on it',
      );
    }
    if (typeof value !== 'string' || value.length === 0)
      throw new SecretUnavailableError(
        `secret ${secretId} holds no string value; store a random string (SecretString) in it`,
      );
    return value;
  };
}
