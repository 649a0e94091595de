// The shared servers of one jest run: started by global-setup.ts, stopped by
// global-teardown.ts. Their URLs travel to the test workers through process.env.
import { probeMoto, startMoto } from './moto.js';
import { probeMysql, startMariadb } from './mariadb.js';
import { probePostgres, startPostgres } from './postgres.js';
import { waitUntilReady } from './process.js';
import { probeRedis, startRedis } from './redis.js';
import type { ServerHandle } from './server.js';
import { cleanRunDir, cleanStaleRuns, createRunDir, RUN_DIR_ENV } from './state.js';

interface SharedServer {
  name: string;
  /** Set by the developer to use an existing server; set by us for the workers otherwise. */
  env: string;
  start(): Promise<ServerHandle>;
  probe(url: string): Promise<void>;
}

const SHARED: SharedServer[] = [
  { name: 'postgres', env: 'PORTCULLIS_TEST_PG_URL', start: startPostgres, probe: probePostgres },
  { name: 'redis', env: 'PORTCULLIS_TEST_REDIS_URL', start: startRedis, probe: probeRedis },
  { name: 'mariadb', env: 'PORTCULLIS_TEST_MYSQL_URL', start: startMariadb, probe: probeMysql },
  { name: 'moto', env: 'PORTCULLIS_TEST_AWS_ENDPOINT', start: startMoto, probe: probeMoto },
];

// The variables we filled in, so teardown can clear them: in watch mode the same process runs
// setup again and must not mistake our stopped servers for external ones.
const exported: string[] = [];

async function provide(server: SharedServer): Promise<string> {
  const external = process.env[server.env];
  if (external) {
    await waitUntilReady(`${server.env} is set but its server (${server.name})`, () => server.probe(external), {
      timeoutMs: 5000,
    });
    return `${server.name} from ${server.env}`;
  }
  const handle = await server.start();
  process.env[server.env] = handle.url;
  exported.push(server.env);
  return `${server.name} :${handle.port}`;
}

/** Starts (in parallel) every shared server the environment does not already provide. */
export async function startSharedServers(): Promise<void> {
  const began = performance.now();
  await cleanStaleRuns();
  process.env[RUN_DIR_ENV] = createRunDir();
  const results = await Promise.allSettled(SHARED.map(provide));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) {
    // Jest skips globalTeardown when globalSetup throws: stop what did start.
    await stopSharedServers();
    throw new Error(`test infrastructure could not start:\n${failures.join('\n')}`);
  }
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  console.log(`\n[test infra] ${started.join(', ')} ready in ${seconds} s (${process.env[RUN_DIR_ENV]})`);
}

/** Stops every server this run started (shared and dedicated) and deletes their data. */
export async function stopSharedServers(): Promise<void> {
  const dir = process.env[RUN_DIR_ENV];
  for (const name of exported.splice(0)) delete process.env[name];
  delete process.env[RUN_DIR_ENV];
  if (dir) await cleanRunDir(dir);
}
