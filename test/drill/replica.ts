// One replica of the cutover drill: the session store exactly as auth-session's main.ts builds it
// (loadConfig with the phase's variables → createSessionStoreFromSettings with its metrics and
// phase info, the item counter, the job-run gauges), and an admin server on 127.0.0.1 serving
// its /metrics for Prometheus. What it does not run is the HTTP app in front of the store.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import {
  loadConfig,
  phaseLabel,
  phaseValues,
  sessionPhaseInfo,
  type Environment,
  type PhasePosition,
} from '@portcullis/config';
import {
  createJobRunMetrics,
  createSessionStoreFromSettings,
  createSessionStoreMetrics,
  sessionJobsInUse,
  startItemCounter,
  type Clock,
  type JobRun,
  type SessionBackend,
  type SessionStore,
  type SessionStoreMetrics,
} from '@portcullis/session-store';
import { LOOPBACK } from '../infra/process.js';

export interface DrillReplica {
  readonly name: string;
  readonly position: PhasePosition;
  readonly store: SessionStore;
  readonly metrics: SessionStoreMetrics;
  readonly address: string;
  /** Reads answered by the secondary since this replica started. */
  fallbacks(): Promise<number>;
  close(): Promise<void>;
}

export async function startReplica(options: {
  name: string;
  position: PhasePosition;
  env: Environment;
  clock: Clock;
  jobRuns: () => JobRun[];
}): Promise<DrillReplica> {
  const { phase, from, to } = phaseValues(options.position);
  const config = loadConfig(
    { ...options.env, SESSION_STORE_PHASE: phase, SESSION_STORE_FROM: from, SESSION_STORE_TO: to },
    { warn: () => undefined },
  );
  const registry = new Registry();
  const metrics = createSessionStoreMetrics(registry);
  const sessions = createSessionStoreFromSettings(config, {
    metrics,
    clock: options.clock,
    phase: sessionPhaseInfo(config),
  });
  // Counted every second (a service counts every minute): the drill's steps last seconds.
  const counter = startItemCounter(sessions.stores as Record<string, SessionBackend>, metrics, 1000);
  await counter.refresh();
  createJobRunMetrics(registry, { latest: async () => options.jobRuns(), ...sessionJobsInUse(config), cacheMs: 500 });
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end();
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: `${options.name} ${phaseLabel(options.position)}`,
    position: options.position,
    store: sessions.store,
    metrics,
    address: `${LOOPBACK}:${port}`,
    fallbacks: async () => (await metrics.readFallbacks.get()).values.reduce((sum, value) => sum + value.value, 0),
    close: async () => {
      counter.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sessions.close();
    },
  };
}
