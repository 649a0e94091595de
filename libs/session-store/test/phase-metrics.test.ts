// Every pod that builds its store through createSessionStoreFromSettings says which phase it runs
// (session_store_phase_info) and which phases may run beside it (session_store_phase_compatible):
// the dashboard's "pods per phase" and the non-adjacent-phases alert read these.
import { Registry } from 'prom-client';
import {
  createSessionStoreFromSettings,
  createSessionStoreMetrics,
  type SessionStoreSettings,
} from '@portcullis/session-store';

const settings: SessionStoreSettings = {
  SESSION_SECRET: ['phase-metrics-secret-0123456789abcdefghij'],
  SESSION_STORE_DRIVER: 'memory',
  SESSION_DUAL_READ_REPAIR: false,
  SESSION_DUAL_FALLBACK_ON_MISS: false,
  SESSION_CONSISTENCY_SAMPLE_SECONDS: 0,
  SESSION_CONSISTENCY_SAMPLE_SIZE: 50,
  SESSION_TABLE_NAME: 'sessions',
  SESSION_KNEX_CLIENT: 'pg',
  DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
  REDIS_KEY_PREFIX: 'p:',
  DYNAMODB_SESSION_TABLE: 'sessions',
  DYNAMODB_TABLE_PREFIX: '',
  DYNAMODB_CONSISTENT_READ: true,
  AWS_REGION: 'us-east-1',
  SESSION_IDLE_TIMEOUT_SECONDS: 1800,
};

it('exports the phase with its config hash and the phases compatible with it', async () => {
  const registry = new Registry();
  const phase = {
    phase: 'single',
    from: 'memory',
    to: '',
    configHash: 'abc123def456',
    compatible: [
      { phase: 'single', from: 'memory', to: '' },
      { phase: 'dual-write', from: 'memory', to: 'knex' },
    ],
  };
  const sessions = createSessionStoreFromSettings(settings, { metrics: createSessionStoreMetrics(registry), phase });
  const text = await registry.metrics();
  await sessions.close();
  expect(text).toContain('session_store_phase_info{phase="single",from="memory",to="",config_hash="abc123def456"} 1');
  expect(text).toContain('session_store_phase_compatible{phase="dual-write",from="memory",to="knex"} 1');
  expect(text.match(/^session_store_phase_compatible\{/gm)).toHaveLength(2);
});
