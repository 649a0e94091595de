export { createAuditWriter, canonicalJson, eventHash, chainKeyOf, GENESIS_HASH, type AuditEvent, type AuditWriter, type ActorType, type ChainedFields } from './audit-writer.js';
