/**
 * The one entry point for API requests: sys/ paths go to the system
 * backend, everything else to the mount it falls under. Both are declared
 * with the route framework; this decides authentication (Vault's
 * unauthenticated paths need no token), runs the ACL, and turns the
 * handler's answer into Vault's response body.
 */
import { randomUUID } from 'node:crypto';
import type { Core } from './core.ts';
import type { LogicalResponse, Operation } from '../engines/types.ts';
import { notFound } from './errors.ts';
import { sysBackend, type SysRequest } from './sys/index.ts';
import { wrapReply } from './wrapping.ts';
import type { AuditRecord } from './audit/index.ts';
import type { Caller } from './unsealed-state.ts';

export interface ApiRequest {
  operation: Operation;
  /** Path below /v1/, decoded, no leading slash. */
  path: string;
  /** Body fields over query parameters; JSON null already dropped. */
  data: Record<string, unknown>;
  token: string | undefined;
  /** Seconds asked for with X-Vault-Wrap-TTL (undefined when absent). */
  wrapTtlSeconds?: number;
  remoteAddress?: string;
  /** The client's port (audit entries' remote_port). */
  remotePort?: number;
  /** `?help=1`: describe the path instead of running it. */
  help?: boolean;
  /** The listener lets sys/metrics be read without a token (`unauthenticated_metrics_access`). */
  unauthenticatedMetrics?: boolean;
}

export interface ApiReply {
  status: number;
  /** undefined: no body (204). */
  body?: unknown;
  /** Set for a body that is not JSON (sent as text with this Content-Type). */
  contentType?: string;
}

/** Whether a path below /v1/ belongs to the system backend. */
export function isSysPath(path: string): boolean {
  return path === 'sys' || path.startsWith('sys/');
}

/** The path inside sys/, matched (and ACL-checked) without trailing slashes. */
export function sysRelativePath(path: string): string {
  return path.slice(4).replace(/\/+$/, '');
}

/**
 * Whether the request is one of Vault's unauthenticated endpoints: a sys
 * path declared so, or (while unsealed) an auth method's login path. Cheap:
 * a mount-table lookup by path segments and one declared-path match.
 */
export function isUnauthenticated(core: Core, path: string, operation: Operation = 'update'): boolean {
  if (isSysPath(path)) return sysBackend.route(sysRelativePath(path))?.declaration.unauthenticated === true;
  if (core.sealed) return false;
  try {
    return core.unsealed().unauthenticatedRoute(path, operation) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Answers a request. A client that asked for X-Vault-Wrap-TTL gets a
 * wrapping token instead of the answer (core/wrapping.ts decides what can be
 * wrapped: envelopes with something in them).
 */
export async function handleApiRequest(core: Core, req: ApiRequest): Promise<ApiReply> {
  // With audit devices enabled, every request but the unauthenticated sys endpoints (seal-status, init,
  // unseal...: Vault serves those outside its audited router) and ?help is recorded, before it runs and
  // after it answers.
  if (!core.audit.active || req.help || core.sealed || (isSysPath(req.path) && isUnauthenticated(core, req.path))) {
    return wrapped(core, req, await answer(core, req));
  }
  const record: AuditRecord = {
    id: randomUUID(),
    operation: req.operation,
    path: isSysPath(req.path) ? `sys/${sysRelativePath(req.path)}` : req.path,
    data: req.data,
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
    wrapTtl: req.wrapTtlSeconds,
    token: req.token,
    requestLogged: false,
  };
  let reply: ApiReply;
  try {
    reply = await wrapped(core, req, await answer(core, req, record));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A refusal before the handler (bad token: 403, ACL) is recorded too, as Vault does.
    if (!record.requestLogged) await core.audit.logRequest(record, message);
    await core.audit.logResponse(record, undefined, message);
    throw err;
  }
  // The entries and the body carry the same request id.
  const body = reply.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body.request_id === 'string') body.request_id = record.id;
  await core.audit.logResponse(record, reply);
  return reply;
}

function wrapped(core: Core, req: ApiRequest, reply: ApiReply): ApiReply | Promise<ApiReply> {
  if (!req.wrapTtlSeconds || req.help) return reply;
  const path = isSysPath(req.path) ? `sys/${sysRelativePath(req.path)}` : req.path;
  return wrapReply(core, { path, operation: req.operation, wrapTtlSeconds: req.wrapTtlSeconds }, reply);
}

/**
 * The audit hook run once the request is authenticated and authorised,
 * right before its handler: the request entry is written, or (no device
 * could record it) the request fails with a 500 and the handler never runs.
 */
export type BeforeHandle = (mount: { type: string; accessor: string; path: string }) => Promise<void> | void;

function auditHook(core: Core, record: AuditRecord | undefined, caller: Caller | undefined): BeforeHandle | undefined {
  if (!record) return undefined;
  if (caller) record.tokenEntry = caller.entry;
  return (mount) => {
    record.mount = mount;
    return core.audit.logRequest(record);
  };
}

async function answer(core: Core, req: ApiRequest, record?: AuditRecord): Promise<ApiReply> {
  if (req.help) return helpReply(core, req);
  if (!isSysPath(req.path)) {
    const state = core.unsealed();
    // Logins need no token: the auth mount's declared path says so.
    const login = state.unauthenticatedRoute(req.path, req.operation);
    if (login) return toReply(await state.handleUnauthenticated(req, login, auditHook(core, record, undefined)));
    const caller = await state.authenticate(req.token, req.remoteAddress);
    try {
      return toReply(await state.handleLogical(req, caller, auditHook(core, record, caller)));
    } finally {
      await state.finishRequest(caller);
    }
  }
  const path = sysRelativePath(req.path);
  const match = sysBackend.route(path);
  if (!match) throw notFound(`unsupported path "${req.path}"`);
  const base: SysRequest = { operation: req.operation, path, data: req.data, core, remoteAddress: req.remoteAddress, wrapTtlSeconds: req.wrapTtlSeconds };
  if (match.declaration.unauthenticated || (req.unauthenticatedMetrics && path === 'metrics')) return toReply((await sysBackend.handle({ ...base, token: req.token }))!, 'system');
  const state = core.unsealed();
  const caller = await state.authenticate(req.token, req.remoteAddress);
  try {
    if (!match.declaration.authorizesItself) {
      state.authorize(caller, `sys/${path}`, req.operation, { data: req.data, wrapTtlSeconds: req.wrapTtlSeconds }, match.declaration.sudo === true);
    }
    const hook = auditHook(core, record, caller);
    if (hook) {
      const sys = state.mounts.get('sys/')?.entry;
      await hook({ type: 'system', accessor: sys?.accessor ?? '', path: 'sys/' });
    }
    return toReply((await sysBackend.handle({ ...base, state, caller }))!, 'system');
  } finally {
    await state.finishRequest(caller);
  }
}

/**
 * `?help=1`: the path's description, fields and OpenAPI item. As in Vault,
 * any valid token may ask (help is not an ACL operation).
 */
async function helpReply(core: Core, req: ApiRequest): Promise<ApiReply> {
  const state = core.unsealed();
  const caller = await state.authenticate(req.token, req.remoteAddress);
  try {
    let help: { help: string; openapi: Record<string, unknown> } | null;
    if (isSysPath(req.path)) {
      help = sysBackend.help(sysRelativePath(req.path), 'sys/');
    } else {
      const match = state.mounts.route(req.path);
      help = match && match.entry.type !== 'system' ? match.backend.help(match.relPath, match.entry.path) : null;
    }
    if (!help) throw notFound(`unsupported path "${req.path}"`);
    return { status: 200, body: { ...help, see_also: null } };
  } finally {
    await state.finishRequest(caller);
  }
}

/** Vault's response body for a handler's answer. */
export function toReply(res: LogicalResponse, mountType = res.mountType ?? ''): ApiReply {
  if (res.rawBody !== undefined) return { status: res.status ?? 200, body: res.rawBody, ...(res.contentType ? { contentType: res.contentType } : {}) };
  const empty = !res.data && !res.auth && !res.warnings?.length;
  if (res.status === 204 || (empty && res.status === undefined)) return { status: 204 };
  const body = envelope(res, mountType);
  return { status: res.status ?? 200, body: res.dataAlsoAtTop && res.data ? { ...res.data, ...body } : body };
}

/** Vault's response envelope. */
export function envelope(res: LogicalResponse, mountType: string): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: res.renewable ?? false,
    lease_duration: res.leaseDuration ?? 0,
    data: res.data ?? null,
    wrap_info: null,
    warnings: res.warnings?.length ? res.warnings : null,
    auth: res.auth ?? null,
    mount_type: mountType,
  };
}

