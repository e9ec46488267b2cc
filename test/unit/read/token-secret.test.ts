/**
 * The page-token secret: read from Secrets Manager with Powertools Parameters and cached; never a
 * constant fallback (a handler without a usable secret refuses to start).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretUnavailableError, secretsManagerSecret } from '../../../adapters/secrets';
import { PageTokenSecretError, makeReadHandler } from '../../../lambdas/read/handler';

describe('Function: secretsManagerSecret', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('reads the secret once and serves it from the cache afterwards', async () => {
    // Prepare
    sm.on(GetSecretValueCommand, { SecretId: 'arn:secret:cached' }).resolves({
      SecretString: 's3cr3t-value-123456',
    });
    const source = secretsManagerSecret('arn:secret:cached', 300);

    // Act
    const values = [await source(), await source(), await source()];

    // Assess
    expect(values).toEqual(['s3cr3t-value-123456', 's3cr3t-value-123456', 's3cr3t-value-123456']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails with a named error when the secret cannot be read or holds no string', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'arn:secret:denied' }).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }),
    );
    sm.on(GetSecretValueCommand, { SecretId: 'arn:secret:empty' }).resolves({ SecretString: '' });
    await expect(secretsManagerSecret('arn:secret:denied')()).rejects.toThrow(SecretUnavailableError);
    await expect(secretsManagerSecret('arn:secret:denied')()).rejects.toThrow(/GetSecretValue/);
    await expect(secretsManagerSecret('arn:secret:empty')()).rejects.toThrow(/holds no string value/);
  });
});

describe('Function: makeReadHandler (page-token secret)', () => {
  it('refuses a secret shorter than 16 characters: there is no constant fallback', () => {
    expect(() => makeReadHandler({ targets: [], tokenSecret: '' })).toThrow(PageTokenSecretError);
    expect(() => makeReadHandler({ targets: [], tokenSecret: 'short' })).toThrow(/at least 16 characters/);
    expect(() => makeReadHandler({ targets: [], tokenSecret: 'x'.repeat(16) })).not.toThrow();
  });
});
