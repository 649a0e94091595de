// Every CLI command loads its configuration as the services do: with SECRETS_SOURCE=aws the
// database URL and keys come from Secrets Manager and Parameter Store (the AWS API emulator),
// so an operator exports nothing into a shell.
import { randomBytes } from 'node:crypto';
import { newKey, ringOf, seedDatabase, type Seeded } from '../../../libs/mfa-reset-log/test/reset-log-seed.js';
import { testAws } from '../../../test/support/index.js';
import { cli } from './sessions-support.js';

const aws = testAws();

/**
 * One call of an AWS JSON API on the emulator. The CLI's package does not depend on the
 * Secrets Manager and SSM clients (libs/config does), so the test speaks the wire protocol:
 * moto reads account and region from the credential scope and checks no signature.
 */
async function awsCall(service: string, target: string, body: unknown): Promise<void> {
  const response = await fetch(aws.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=${aws.credentials.accessKeyId}/20260101/${aws.region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${target}: HTTP ${response.status} ${await response.text()}`);
}
const awsEnv = {
  SECRETS_SOURCE: 'aws',
  AWS_REGION: aws.region,
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
};
const unique = () => randomBytes(4).toString('hex');

let s: Seeded;
const key = newKey();
const secretId = `portcullis/cli/${unique()}`;
const path = `/portcullis/cli-${unique()}`;

beforeAll(async () => {
  s = await seedDatabase();
  await s.insertSealed(3, ringOf(key));
  // The key in Secrets Manager, the database URL in Parameter Store: both sources in one run.
  await awsCall('secretsmanager', 'secretsmanager.CreateSecret', {
    Name: secretId,
    SecretString: JSON.stringify({ MFA_RESET_LOG_ENCRYPTION_KEY: key }),
  });
  await awsCall('ssm', 'AmazonSSM.PutParameter', {
    Name: `${path}/DATABASE_URL`,
    Value: s.database.url,
    Type: 'SecureString',
  });
});
afterAll(() => s.close());

describe('SECRETS_SOURCE=aws in the CLI', () => {
  it('runs mfa-logs verify-decrypt with the key and database URL from Secrets Manager and SSM only', async () => {
    const run = await cli(
      { ...awsEnv, AWS_SECRETS_MANAGER_SECRET_ID: secretId, AWS_SSM_PARAMETER_PATH: path },
      'mfa-logs',
      'verify-decrypt',
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/verify-decrypt: all \d+ values of 3 rows decrypt\n$/);
    expect(JSON.parse(run.stdout)).toMatchObject({ checked: 3, failed: 0 });
  });

  it('without SECRETS_SOURCE=aws the same command finds no database, as before', async () => {
    const run = await cli(
      { ...awsEnv, SECRETS_SOURCE: 'env', AWS_SECRETS_MANAGER_SECRET_ID: secretId, AWS_SSM_PARAMETER_PATH: path },
      'mfa-logs',
      'verify-decrypt',
    );
    expect(run).toMatchObject({ code: 2, stderr: 'portcullis: DATABASE_URL is required: set it in the environment\n' });
  });

  it('names the source that failed, never a value, and asks for a source when none is set', async () => {
    const missing = await cli(
      { ...awsEnv, AWS_SECRETS_MANAGER_SECRET_ID: `missing/${unique()}` },
      'audit',
      'verify-chain',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'AWS_SECRETS_MANAGER_SECRET_ID: the Secrets Manager secret could not be loaded (ResourceNotFoundException)',
    );
    expect(missing.stderr).not.toContain(aws.credentials.secretAccessKey);
    const none = await cli(awsEnv, 'mfa-logs', 'key-usage');
    expect(none).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'SECRETS_SOURCE is aws but neither AWS_SECRETS_MANAGER_SECRET_ID nor AWS_SSM_PARAMETER_PATH is set',
      ),
    });
  });

  it('does not call AWS for --help', async () => {
    const help = await cli(
      { ...awsEnv, AWS_SECRETS_MANAGER_SECRET_ID: `missing/${unique()}` },
      'mfa-logs',
      'verify-decrypt',
      '--help',
    );
    expect(help).toMatchObject({ code: 0, stderr: '' });
  });
});
