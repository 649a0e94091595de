// @portcullis/mfa-reset-log: the format of the MFA reset log's previous_* values (table, columns,
// encryption context, sealing and reading) and the re-encryption jobs over it (portcullis mfa-logs).
export {
  openPrevious,
  openValue,
  PREVIOUS_COLUMNS,
  RESET_LOG_TABLE,
  sealPrevious,
  UnreadablePreviousValueError,
  valueContext,
  type OpenedValue,
  type PreviousColumn,
  type PreviousValues,
} from './format.js';
export {
  createResetLogJobs,
  keyUsageMetricText,
  type JobOptions,
  type Progress,
  type ResetLogJobs,
  type VerifySummary,
  type WriteSummary,
} from './jobs.js';
