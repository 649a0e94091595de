// One replica of the cutover drill: a real auth-session process, the compiled
// services/auth-session/dist/main.js as the image runs it (NODE_ENV=production), configured by
// SESSION_STORE_PHASE/_FROM/_TO as the chart's ConfigMap configures a pod. Its public port is
// what the synthetic admins use, its admin port (/metrics) what Prometheus scrapes.
import { phaseLabel, phaseValues, type PhasePosition } from '@portcullis/config';
import { startCompiledService } from '../support/compiled-service.js';

export interface DrillReplica {
  readonly name: string;
  readonly position: PhasePosition;
  readonly pid: number;
  /** Public port: http://127.0.0.1:<port>. */
  readonly url: string;
  /** host:port of the admin port, the scrape target. */
  readonly address: string;
  /** Scrapes its last counters, then SIGTERM; a non-zero exit is an error with its output. */
  stop(): Promise<{ fallbacks: number }>;
}

/** The sum of one counter's series in a Prometheus text exposition. */
export function counterTotal(exposition: string, name: string): number {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

export async function startReplica(options: {
  name: string;
  position: PhasePosition;
  env: Record<string, string>;
}): Promise<DrillReplica> {
  const { phase, from, to } = phaseValues(options.position);
  const service = await startCompiledService('auth-session', {
    ...options.env,
    SESSION_STORE_PHASE: phase,
    SESSION_STORE_FROM: from,
    ...(to ? { SESSION_STORE_TO: to } : {}),
  });
  const name = `${options.name} ${phaseLabel(options.position)}`;
  return {
    name,
    position: options.position,
    pid: service.pid,
    url: service.url,
    address: new URL(service.adminUrl).host,
    stop: async () => {
      const metrics = await fetch(`${service.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
        .then((response) => response.text())
        .catch(() => '');
      const code = await service.stop();
      if (code !== 0) throw new Error(`${name} exited with ${code}; its output:\n${service.output().slice(-3000)}`);
      return { fallbacks: counterTotal(metrics, 'session_store_read_fallbacks_total') };
    },
  };
}
