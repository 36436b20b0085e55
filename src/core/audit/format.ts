/**
 * Vault's audit entry shapes (audit/format.go): one request entry before the
 * handler runs, one response entry after. Empty fields are left out, as
 * Vault's `omitempty` does. Under a device without `log_raw`, every string
 * in request and response data, and tokens and accessors, are HMACs.
 */
import type { TokenEntry } from '../tokens/token-entry.ts';
import type { AuditSalt } from './hash.ts';
import type { FormatOptions } from './types.ts';
import { toJsonx } from './jsonx.ts';

/** What one API request contributes to its two entries; filled in as the request proceeds. */
export interface AuditRecord {
  id: string;
  operation: string;
  path: string;
  data: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
  wrapTtl?: number;
  /** The client token as sent, and its entry once authenticated. */
  token?: string;
  tokenEntry?: TokenEntry;
  mount?: { type: string; accessor: string; path: string };
  /** The request entry has been written (by at least one device). */
  requestLogged: boolean;
}

/** The client-visible reply a response entry describes (the body as sent). */
export interface AuditReply {
  status: number;
  body?: unknown;
}

const nonEmpty = (s: string | undefined): string | undefined => (s ? s : undefined);
const nonEmptyList = <T>(a: T[] | undefined | null): T[] | undefined => (a && a.length ? a : undefined);
const nonEmptyMap = (m: Record<string, unknown> | undefined | null): Record<string, unknown> | undefined =>
  m && typeof m === 'object' && Object.keys(m).length ? m : undefined;

/** Formats the entries of one device (its salt, or none with log_raw, and its options). */
export class EntryFormatter {
  constructor(
    private readonly salt: AuditSalt,
    private readonly opts: FormatOptions,
  ) {}

  private str(value: string | undefined): string | undefined {
    if (!value) return undefined;
    return this.opts.logRaw ? value : this.salt.hash(value);
  }

  private accessor(value: string | undefined): string | undefined {
    if (!value) return undefined;
    return this.opts.logRaw || !this.opts.hmacAccessor ? value : this.salt.hash(value);
  }

  private data(value: unknown): Record<string, unknown> | undefined {
    const map = nonEmptyMap(value as Record<string, unknown> | undefined);
    if (!map) return undefined;
    return this.opts.logRaw ? map : (this.salt.hashValue(map) as Record<string, unknown>);
  }

  private line(entry: Record<string, unknown>): string {
    return `${this.opts.prefix}${this.opts.format === 'jsonx' ? toJsonx(entry) : JSON.stringify(entry)}\n`;
  }

  private auth(rec: AuditRecord): Record<string, unknown> | undefined {
    const e = rec.tokenEntry;
    if (!e) return rec.token ? { client_token: this.str(rec.token) } : undefined;
    return {
      client_token: this.str(rec.token),
      accessor: this.accessor(e.accessor),
      display_name: nonEmpty(e.displayName),
      policies: nonEmptyList(e.policies),
      token_policies: nonEmptyList(e.policies),
      metadata: nonEmptyMap(e.meta),
      remaining_uses: e.numUses > 0 ? e.numUses : undefined,
      entity_id: nonEmpty(e.entityId),
      token_type: e.type,
      token_ttl: e.ttl || undefined,
      token_issue_time: e.creationTime ? new Date(e.creationTime * 1000).toISOString().replace('.000Z', 'Z') : undefined,
    };
  }

  private request(rec: AuditRecord): Record<string, unknown> {
    return {
      id: rec.id,
      operation: rec.operation,
      mount_point: nonEmpty(rec.mount?.path),
      mount_type: nonEmpty(rec.mount?.type),
      mount_accessor: nonEmpty(rec.mount?.accessor),
      client_token: this.str(rec.token),
      client_token_accessor: this.accessor(rec.tokenEntry?.accessor),
      namespace: { id: 'root' },
      path: rec.path,
      data: this.data(rec.data),
      remote_address: nonEmpty(rec.remoteAddress),
      remote_port: rec.remotePort || undefined,
      wrap_ttl: rec.wrapTtl || undefined,
    };
  }

  requestLine(rec: AuditRecord, time: string, error?: string): string {
    return this.line({ time, type: 'request', auth: this.auth(rec), request: this.request(rec), error: nonEmpty(error) });
  }

  responseLine(rec: AuditRecord, time: string, reply: AuditReply | undefined, error?: string): string {
    return this.line({ time, type: 'response', auth: this.auth(rec), request: this.request(rec), response: this.response(rec, reply), error: nonEmpty(error) });
  }

  private response(rec: AuditRecord, reply: AuditReply | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {
      mount_point: nonEmpty(rec.mount?.path),
      mount_type: nonEmpty(rec.mount?.type),
      mount_accessor: nonEmpty(rec.mount?.accessor),
    };
    const body = reply?.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return out;
    // Vault's envelope (data, auth, wrap_info...) or a raw sys answer (all of it is data).
    const enveloped = 'request_id' in body && 'wrap_info' in body;
    let data = enveloped ? (body.data as Record<string, unknown> | null) : body;
    if (data && this.opts.elideListResponses && rec.operation === 'list') data = elideList(data);
    const auth = enveloped ? (body.auth as Record<string, unknown> | null) : null;
    if (auth) {
      out.auth = {
        client_token: this.str(auth.client_token as string),
        accessor: this.accessor(auth.accessor as string),
        policies: nonEmptyList(auth.policies as string[]),
        token_policies: nonEmptyList(auth.token_policies as string[]),
        identity_policies: nonEmptyList(auth.identity_policies as string[]),
        metadata: nonEmptyMap(auth.metadata as Record<string, unknown>),
        entity_id: nonEmpty(auth.entity_id as string),
        token_type: nonEmpty(auth.token_type as string),
        token_ttl: (auth.lease_duration as number) || undefined,
      };
    }
    if (enveloped && body.lease_id) out.secret = { lease_id: body.lease_id };
    out.data = this.data(data);
    if (enveloped) out.warnings = nonEmptyList(body.warnings as string[]);
    const wrap = enveloped ? (body.wrap_info as Record<string, unknown> | null) : null;
    if (wrap) {
      out.wrap_info = {
        ttl: wrap.ttl || undefined,
        token: this.str(wrap.token as string),
        accessor: this.accessor(wrap.accessor as string),
        creation_time: nonEmpty(wrap.creation_time as string),
        creation_path: nonEmpty(wrap.creation_path as string),
        wrapped_accessor: this.accessor(wrap.wrapped_accessor as string),
      };
    }
    return out;
  }
}

/** `elide_list_responses`: a list answer's `keys` become their count, `key_info` its number of keys. */
function elideList(data: Record<string, unknown>): Record<string, unknown> {
  const out = { ...data };
  if (Array.isArray(data.keys)) out.keys = data.keys.length;
  if (data.key_info && typeof data.key_info === 'object') out.key_info = Object.keys(data.key_info).length;
  return out;
}
