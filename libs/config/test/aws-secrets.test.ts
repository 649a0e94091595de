// Secrets loaded at start-up from AWS Secrets Manager and SSM Parameter Store, against a real
// AWS-API emulator (moto's server) over HTTP: no mocked SDK.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfigWithSecrets } from '@portcullis/config';
import { testAws } from '../../../test/support/index.js';

const aws = testAws();
const awsEnv = {
  SECRETS_SOURCE: 'aws',
  AWS_REGION: aws.region,
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
};
const clientOptions = { region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials };
const unique = () => randomBytes(4).toString('hex');

describe('secrets from AWS', () => {
  const sessionSecret = `sm-${randomBytes(24).toString('hex')}`;
  const resetKey = randomBytes(32).toString('base64');
  const databaseUrl = `postgres://app:${unique()}@db.internal:5432/portcullis`;

  it('loads a JSON secret from Secrets Manager and SecureStrings from Parameter Store', async () => {
    const secretId = `portcullis/test/${unique()}`;
    const path = `/portcullis/${unique()}`;
    const secrets = new SecretsManagerClient(clientOptions);
    const ssm = new SSMClient(clientOptions);
    await secrets.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({
          SESSION_SECRET: sessionSecret,
          MFA_RESET_LOG_ENCRYPTION_KEY: resetKey,
          UNRELATED: 'ignored',
        }),
      }),
    );
    await ssm.send(new PutParameterCommand({ Name: `${path}/DATABASE_URL`, Value: databaseUrl, Type: 'SecureString' }));
    secrets.destroy();
    ssm.destroy();

    const config = await loadConfigWithSecrets({
      ...awsEnv,
      AWS_SECRETS_MANAGER_SECRET_ID: secretId,
      AWS_SSM_PARAMETER_PATH: path,
    });
    expect(config.SESSION_SECRET).toEqual([sessionSecret]);
    expect(config.MFA_RESET_LOG_ENCRYPTION_KEY).toBe(resetKey);
    expect(config.DATABASE_URL).toBe(databaseUrl);
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('names the variable when the secret does not exist, without any value', async () => {
    const error = await loadConfigWithSecrets({
      ...awsEnv,
      AWS_SECRETS_MANAGER_SECRET_ID: `missing/${unique()}`,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /AWS_SECRETS_MANAGER_SECRET_ID: the Secrets Manager secret could not be loaded \(ResourceNotFoundException\)/,
    );
  });

  it('validates what it loaded like any other configuration, never printing the loaded secret', async () => {
    const secretId = `portcullis/test/${unique()}`;
    const secrets = new SecretsManagerClient(clientOptions);
    await secrets.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ SESSION_SECRET: 'loaded-but-too-short', DATABASE_URL: databaseUrl }),
      }),
    );
    secrets.destroy();
    const error = await loadConfigWithSecrets({ ...awsEnv, AWS_SECRETS_MANAGER_SECRET_ID: secretId }).catch(
      (caught: unknown) => caught,
    );
    expect((error as ConfigError).problems).toEqual([
      { variable: 'SESSION_SECRET', message: 'every secret in the list must be at least 32 characters' },
    ]);
    expect((error as Error).message).not.toContain('loaded-but-too-short');
  });
});
