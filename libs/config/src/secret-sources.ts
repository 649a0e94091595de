// For containers or Lambda without External Secrets Operator: load secrets at start-up from
// AWS Secrets Manager (one JSON secret) and/or SSM Parameter Store (SecureString under a path).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from './config-error.js';
import { loadConfig, type Config, type Environment } from './load-config.js';
import { variables } from './variables.js';

const knownNames = new Set(Object.keys(variables));

function clientOptions(env: Environment) {
  return {
    region: env.AWS_REGION || 'us-east-1',
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    // Normally unset: in EKS the SDK's default chain picks up IRSA's web identity.
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
      : {}),
  };
}

function sourceError(variable: string, what: string, error: unknown): ConfigError {
  // Only the error's name: AWS messages can echo request content.
  const reason = error instanceof Error ? error.name : 'unknown error';
  return new ConfigError([{ variable, message: `${what} could not be loaded (${reason})` }]);
}

async function fromSecretsManager(env: Environment, secretId: string): Promise<Environment> {
  const client = new SecretsManagerClient(clientOptions(env));
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(SecretString ?? '');
    } catch {
      throw new ConfigError([
        {
          variable: 'AWS_SECRETS_MANAGER_SECRET_ID',
          message: 'the secret is not a JSON object of variable names to strings',
        },
      ]);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError([
        {
          variable: 'AWS_SECRETS_MANAGER_SECRET_ID',
          message: 'the secret is not a JSON object of variable names to strings',
        },
      ]);
    }
    return Object.fromEntries(
      Object.entries(parsed).filter(([name, value]) => knownNames.has(name) && typeof value === 'string') as [
        string,
        string,
      ][],
    );
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw sourceError('AWS_SECRETS_MANAGER_SECRET_ID', 'the Secrets Manager secret', error);
  } finally {
    client.destroy();
  }
}

async function fromParameterStore(env: Environment, path: string): Promise<Environment> {
  const client = new SSMClient(clientOptions(env));
  const loaded: Environment = {};
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetParametersByPathCommand({ Path: path, Recursive: true, WithDecryption: true, NextToken: nextToken }),
      );
      for (const parameter of page.Parameters ?? []) {
        const name = parameter.Name?.split('/').pop();
        if (name && knownNames.has(name) && parameter.Value !== undefined) loaded[name] = parameter.Value;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return loaded;
  } catch (error) {
    throw sourceError('AWS_SSM_PARAMETER_PATH', 'the SSM parameters', error);
  } finally {
    client.destroy();
  }
}

/**
 * Resolves secret sources into one environment. With SECRETS_SOURCE=aws the values from
 * Secrets Manager, then SSM, override the plain environment: the secret store is the source
 * of truth. Only known variable names are taken.
 */
export async function resolveSecretSources(env: Environment = process.env): Promise<Environment> {
  if (env.SECRETS_SOURCE !== 'aws') return env;
  const fromSecret = env.AWS_SECRETS_MANAGER_SECRET_ID
    ? await fromSecretsManager(env, env.AWS_SECRETS_MANAGER_SECRET_ID)
    : {};
  const fromSsm = env.AWS_SSM_PARAMETER_PATH ? await fromParameterStore(env, env.AWS_SSM_PARAMETER_PATH) : {};
  return { ...env, ...fromSecret, ...fromSsm };
}

/** Start-up entry point: secret sources, then one validated, frozen config. */
export async function loadConfigWithSecrets(env: Environment = process.env): Promise<Config> {
  return loadConfig(await resolveSecretSources(env));
}
