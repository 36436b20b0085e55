export { AuditBroker, AUDIT_TABLE_PATH, AUDIT_TYPES, auditFailed, type AuditStorage } from './broker.ts';
export type { AuditRecord, AuditReply } from './format.ts';
export type { AuditDevice, AuditEntry } from './types.ts';
