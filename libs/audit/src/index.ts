export {
  createAuditWriter,
  canonicalJson,
  chainInput,
  eventHash,
  headInput,
  chainKeyOf,
  GENESIS_HASH,
  type AuditEvent,
  type AuditWriter,
  type ActorType,
  type ChainedFields,
} from './audit-writer.js';
export {
  openDetails,
  sealDetails,
  sealedContext,
  MissingDetailsKeyError,
  SEALED_KEY,
  UNREADABLE,
} from './sealed-details.js';
export {
  verifyChain,
  listChainKeys,
  checkEventHash,
  type ChainedEvent,
  CHAIN_BREAK_REASONS,
  type ChainBreak,
  type AuditEventRow,
  type ChainBreakReason,
  type ChainReport,
} from './verify-chain.js';
export { countedAudit, countedAuditWriter } from './counted-writer.js';
export {
  exportedChainEvent,
  chainedFieldsOfExport,
  csvCell,
  readCsv,
  type ExportedChainEvent,
} from './export-format.js';
