// Shared by the `portcullis sessions` tests: an environment pointing at real test servers,
// and runCli in-process with captured output.
import { runCli } from '../src/program.js';
import { testDynamo, testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';

export const SECRET = 'cli-test-session-secret-0123456789abcdef';

export interface Environment {
  env: Record<string, string>;
  db: TestDatabase;
  dynamo: ReturnType<typeof testDynamo>;
  redis: ReturnType<typeof testRedis>;
}

/** A fresh PostgreSQL database, a moto table prefix and a Redis prefix, as a deployment's env. */
export async function testEnvironment(): Promise<Environment> {
  const [db, dynamo, redis] = [await testPostgres(), testDynamo(), testRedis()];
  // The DynamoDB client takes credentials from the SDK's default chain, as pods do (IRSA).
  process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    SESSION_SECRET: SECRET,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    DYNAMODB_TABLE_PREFIX: dynamo.tablePrefix,
    AWS_REGION: dynamo.region,
  };
  return { env, db, dynamo, redis };
}

/** Runs `portcullis …args` in this process; returns the exit code and what it printed. */
export async function cli(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
