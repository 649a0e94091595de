// What the portcullis CLI runs from this service: the reset-log jobs and their metric text.
export { createResetLogJobs, keyUsageMetricText, type JobOptions, type Progress, type ResetLogJobs, type VerifySummary, type WriteSummary } from './jobs/reset-log-jobs.js';
export { PREVIOUS_COLUMNS, RESET_LOG_TABLE, valueContext } from './jobs/reset-log-values.js';
