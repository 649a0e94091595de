// The system under soak: dedicated PostgreSQL, Redis and moto (DynamoDB API) from test/infra,
// and two compiled replicas of each service in production mode behind a client-side
// round-robin balancer (what the ingress and the Service do in the chart). Everything listens on
// loopback; every process is stopped by pid in close().
import { randomBytes } from 'node:crypto';
import {
  productionBackends,
  startCompiledService,
  type CompiledService,
  type ProductionBackends,
} from '../../test/support/compiled-service.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../test/infra/moto-account.js';
import type { ServerHandle } from '../../test/infra/server.js';

export type StoreMode = 'redis' | 'dual';
export type ServiceName = 'auth-session' | 'mfa-admin' | 'audit-log';
export const SERVICES: ServiceName[] = ['auth-session', 'mfa-admin', 'audit-log'];

export interface Replica {
  /** e.g. auth-session#1; stays the same across restarts of that slot. */
  name: string;
  service: ServiceName;
  process: CompiledService;
  /** In the balancer's rotation (false while killed, draining or restarting). */
  up: boolean;
}

export interface Servers {
  postgres: ServerHandle;
  redis: ServerHandle;
  moto: ServerHandle;
}

/** The shared servers of a soak run, started once; each mode gets its own database and prefixes. */
export async function startServers(): Promise<Servers> {
  const [{ startPostgres }, { startRedis }, { startMoto }] = await Promise.all([
    import('../../test/infra/postgres.js'),
    import('../../test/infra/redis.js'),
    import('../../test/infra/moto.js'),
  ]);
  const started = await Promise.allSettled([startPostgres(), startRedis(), startMoto()]);
  const handles = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(handles.map((handle) => handle.dispose()));
    throw failed.reason;
  }
  const [postgres, redis, moto] = handles as [ServerHandle, ServerHandle, ServerHandle];
  // productionBackends() finds the shared servers through the variables the jest set-up exports.
  process.env.PORTCULLIS_TEST_PG_URL = postgres.url;
  process.env.PORTCULLIS_TEST_REDIS_URL = redis.url;
  return { postgres, redis, moto };
}

export class Cluster {
  readonly replicas: Replica[] = [];
  private readonly cursor = new Map<ServiceName, number>();

  private constructor(
    readonly mode: StoreMode,
    readonly backends: ProductionBackends,
    readonly env: Record<string, string>,
    readonly dynamoTable: string,
  ) {}

  /** A migrated database, the mode's session-store settings, then 2 replicas of each service. */
  static async start(mode: StoreMode, servers: Servers): Promise<Cluster> {
    const backends = await productionBackends();
    const dynamoTable = `soak_sessions_${randomBytes(4).toString('hex')}`;
    const env: Record<string, string> = {
      ...backends.env,
      TRUSTED_PROXY_HOPS: '1',
      SHUTDOWN_GRACE_MS: '10000',
      SESSION_MAX_CONCURRENT: '5',
    };
    if (mode === 'dual') {
      // Phase 1 of docs/session-cutover.md: dual(knex→dynamodb), fallback on miss off, no read repair.
      Object.assign(env, {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'knex',
        SESSION_STORE_SECONDARY: 'dynamodb',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        SESSION_DUAL_READ_REPAIR: 'false',
        RATE_LIMIT_STORE: 'postgres',
        DYNAMODB_ENDPOINT: servers.moto.url,
        DYNAMODB_SESSION_TABLE: dynamoTable,
        AWS_REGION: MOTO_REGION,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      });
      delete env.REDIS_URL;
      delete env.REDIS_KEY_PREFIX;
    }
    const cluster = new Cluster(mode, backends, env, dynamoTable);
    try {
      if (mode === 'dual') await cluster.createDynamoTable(servers.moto.url);
      // auth-session first and alone: it creates the default platform admin at start-up.
      cluster.replicas.push(await cluster.launch('auth-session', 0));
      const rest = await Promise.all([
        cluster.launch('auth-session', 1),
        ...(['mfa-admin', 'audit-log'] as const).flatMap((service) => [
          cluster.launch(service, 0),
          cluster.launch(service, 1),
        ]),
      ]);
      cluster.replicas.push(...rest);
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** What `portcullis sessions create-dynamodb-table` does (idempotent); moto forgets it on restart. */
  async createDynamoTable(endpoint: string): Promise<void> {
    const { createDynamoClient, createDynamoSessionTable } = await import('@portcullis/session-store');
    const client = createDynamoClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    try {
      await createDynamoSessionTable(client, { tableName: this.dynamoTable, billingMode: 'PAY_PER_REQUEST' });
    } finally {
      client.destroy();
    }
  }

  private async launch(service: ServiceName, slot: number): Promise<Replica> {
    return { name: `${service}#${slot}`, service, process: await startCompiledService(service, this.env), up: true };
  }

  replica(name: string): Replica {
    const found = this.replicas.find((replica) => replica.name === name);
    if (!found) throw new Error(`no replica ${name}`);
    return found;
  }

  /** Round robin over the replicas in rotation; undefined when none is (every request then fails fast). */
  pick(service: ServiceName): Replica | undefined {
    const pool = this.replicas.filter((replica) => replica.service === service && replica.up);
    if (pool.length === 0) return undefined;
    const next = (this.cursor.get(service) ?? 0) + 1;
    this.cursor.set(service, next);
    return pool[next % pool.length];
  }

  /** Starts a new process in a stopped slot and puts it back into rotation once /readyz answers. */
  async restart(name: string): Promise<void> {
    const replica = this.replica(name);
    replica.up = false;
    await replica.process.stop();
    replica.process = await startCompiledService(replica.service, this.env);
    replica.up = true;
  }

  /** Stops every replica by pid (SIGTERM, SIGKILL after 10 s) and drops the mode's database. */
  async close(): Promise<void> {
    await Promise.allSettled(this.replicas.map((replica) => ((replica.up = false), replica.process.stop())));
    await this.backends.close().catch(() => undefined);
  }
}
