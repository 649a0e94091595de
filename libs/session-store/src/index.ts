export type { SessionBackend, SessionRecord, SessionCounts, DriverName } from './backend.js';
export { SessionStoreError, type SessionStoreErrorCode } from './errors.js';
export {
  createSessionStore,
  systemClock,
  STORED_SESSION_MARGIN_MS,
  type Clock,
  type SessionData,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
  type SessionRead,
} from './session-store.js';
export { newSessionId, revocationHashOf } from './revocation.js';
export { createMemoryBackend } from './drivers/memory.js';
export {
  createDynamoBackend,
  createDynamoClient,
  DYNAMO_MAX_DATA_BYTES,
  type DynamoBackendOptions,
} from './drivers/dynamodb.js';
export {
  createDynamoSessionTable,
  describeDynamoSessionTable,
  DYNAMO_SCHEMA,
  type DynamoSessionTableOptions,
  type DynamoSessionTableDescription,
} from './dynamodb-table.js';
export { createRedisBackend, type RedisBackendOptions } from './drivers/redis.js';
export { createKnexBackend, type KnexBackendOptions } from './drivers/knex.js';
export { createSessionTable, sessionTableDdl, cleanupExpiredSessions, type CleanupOptions } from './knex-schema.js';
export {
  createSessionTableMetrics,
  readSessionTableStats,
  type SessionTableMetricsOptions,
  type SessionTableStats,
} from './table-metrics.js';
export { createDualBackend, type DualBackend, type DualBackendOptions } from './drivers/dual.js';
export { createRepairQueue, type Repair, type RepairQueue } from './repair-queue.js';
export {
  createSessionStoreMetrics,
  exportSessionPhase,
  instrumentBackend,
  startItemCounter,
  type PhaseLabels,
  type SessionStoreMetrics,
} from './metrics.js';
export {
  createBackendFromSettings,
  dynamoSessionTableOf,
  createSingleBackend,
  dualOptionsOf,
  createSessionStoreFromSettings,
  BOUNDED_REDIS_OPTIONS,
  SESSION_REDIS_CLIENT_OPTIONS,
  type SessionStoreSettings,
  type BuiltBackend,
} from './from-config.js';
export type { ScanPage } from './backend.js';
export {
  backfillSessions,
  readBackfillCheckpoint,
  writeBackfillCheckpoint,
  BackfillError,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillStats,
  type BackfillCheckpoint,
} from './backfill.js';
export { startConsistencySampler, type ConsistencySamplerOptions } from './consistency-sampler.js';
export {
  verifyStores,
  exactCount,
  compareSampledSessions,
  MISMATCH_KINDS,
  type SampleComparison,
  type VerifyOptions,
  type VerifyReport,
  type Mismatch,
  type MismatchKind,
} from './verify.js';
export {
  checkSessionStore,
  checkKnexThroughProxy,
  compareSessionConfigs,
  secretFingerprint,
  MYSQL_PIN_STATEMENT_BYTES,
  type PreflightCheck,
  type SessionConfigView,
} from './preflight.js';
export { runExpiredSessionCleanup, type CleanupProgress, type CleanupResult } from './knex-schema.js';
export {
  createJobRunQueries,
  JOB_RUNS_TABLE,
  JOB_OUTCOMES,
  JOB_RUN_RETENTION_DAYS,
  type JobName,
  type JobOutcome,
  type JobFigures,
  type JobRun,
  type JobRunQueries,
} from './queries/job-runs.js';
export {
  createJobRunMetrics,
  cleanupFigures,
  verifyFigures,
  sessionJobsInUse,
  type JobRunMetricsOptions,
} from './job-metrics.js';
