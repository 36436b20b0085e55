/**
 * Vault's response wrapping. A client that sends `X-Vault-Wrap-TTL` gets,
 * instead of the answer, a single-use wrapping token: an orphan token with
 * exactly the built-in `response-wrapping` policy, `num_uses` 1 and the wrap
 * TTL as both TTL and explicit max TTL. The answer itself (the JSON text of
 * the HTTP body that would have been sent, request_id included) waits in that
 * token's cubbyhole under `response`, with `wrapinfo` (creation_ttl,
 * creation_time, creation_path) beside it, until the token is unwrapped once,
 * expires, or is revoked (which erases the cubbyhole).
 *
 * The http layer calls {@link wrapReply} once per request, after it has built
 * the body; the sys/wrapping/* routes call {@link wrapRequestData},
 * {@link unwrap}, {@link lookup} and {@link rewrap}.
 */
import type { LogicalResponse, Operation } from '../engines/types.ts';
import { RESPONSE_WRAPPING_POLICY_NAME } from './acl/default-policy.ts';
import type { Core } from './core.ts';
import { osRandom } from './entropy.ts';
import { badRequest, internalError, notFound, TresorError } from './errors.ts';
import { SYSTEM_DEFAULT_LEASE_TTL } from './mounts.ts';
import type { TokenEntry } from './tokens/index.ts';
import { constantTimeEqual } from './tokens/token-ids.ts';
import type { UnsealedState } from './unsealed-state.ts';

/** Vault's answer for a token that is unknown, expired, already used, or not a wrapping token. */
export const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

/** The request a reply answers, as far as wrapping cares. */
export interface WrapRequest {
  /** Path below /v1/ (becomes creation_path). */
  path: string;
  operation: Operation;
  /** Seconds asked for with X-Vault-Wrap-TTL; absent or 0 = no wrapping. */
  wrapTtlSeconds?: number;
}

/** An HTTP answer before it is sent: `body` undefined means 204. */
export interface HttpReply {
  status: number;
  body?: unknown;
}

/** A call to sys/wrapping/unwrap, lookup or rewrap. */
export interface WrappingCall extends WrapRequest {
  /** The client token (X-Vault-Token); it is the wrapping token when the body names none. */
  clientToken: string | undefined;
  /** The request fields; `token` names the wrapping token of a third party. */
  data: Record<string, unknown>;
  /** The connection's peer (for tokens bound to CIDRs). */
  remoteAddress?: string;
}

/** Wrap envelopes made here: wrapReply leaves them as they are (rewrap answers one). */
const WRAPPED = new WeakSet<object>();

/** A token the core minted for response wrapping (nobody else can hold this policy). */
export function isWrappingToken(entry: TokenEntry): boolean {
  return entry.policies.length === 1 && entry.policies[0] === RESPONSE_WRAPPING_POLICY_NAME;
}

/**
 * The request entry's one call (core/api.ts): wraps `reply` when the request asked for it
 * and there is an envelope to wrap (not a 204, an error or a raw answer
 * such as seal-status); otherwise returns it unchanged. A list that found
 * no keys is Vault's 404 rather than a wrapped nothing.
 */
export async function wrapReply(core: Core, request: WrapRequest, reply: HttpReply): Promise<HttpReply> {
  const ttl = request.wrapTtlSeconds ?? 0;
  if (!(ttl > 0) || reply.body === undefined || reply.status === 204 || reply.status < 200 || reply.status >= 300) return reply;
  const body = reply.body;
  if (!isEnvelope(body) || WRAPPED.has(body)) return reply;
  if (request.operation === 'list' && !listHasContent(body)) throw notFound();
  const path = request.operation === 'list' && !request.path.endsWith('/') ? `${request.path}/` : request.path;
  const wrapped = await mintWrappingToken(core.unsealed(), {
    ttl,
    creationPath: path,
    responseText: JSON.stringify(body),
    wrappedAccessor: authAccessor(body.auth),
  });
  return { status: 200, body: wrapped };
}

/** sys/wrapping/wrap: the request's fields become the wrapped answer's `data`; the endpoint needs a wrap TTL. */
export function wrapRequestData(data: Record<string, unknown>, wrapTtlSeconds: number | undefined): Record<string, unknown> {
  if (!((wrapTtlSeconds ?? 0) > 0)) throw badRequest('endpoint requires response wrapping to be used');
  return { ...data };
}

/**
 * sys/wrapping/unwrap: the stored answer, once. The wrapping token is the
 * `token` field, else the client token itself. As in Vault the wrapping
 * token is checked before the caller is authenticated (so a spent one is
 * a 400, not a 403); then the caller needs `update` on the path. A third
 * party's unwrap spends and revokes the wrapping token; a wrapping token
 * unwrapping itself spends its only use by authenticating. Undefined: the
 * stored answer was empty (204).
 */
export async function unwrap(state: UnsealedState, call: WrappingCall): Promise<Record<string, unknown> | undefined> {
  const presented = presentedToken(call);
  const entry = await wrappingEntry(state, presented.token);
  const caller = await state.authenticate(call.clientToken, call.remoteAddress);
  try {
    state.authorize(caller, call.path, call.operation, { data: call.data, wrapTtlSeconds: call.wrapTtlSeconds });
    const found = presented.thirdParty
      ? await spendWhile(state, entry, () => readCubbyhole(state, entry.id, 'response'))
      : await readCubbyhole(state, caller.entry.id, 'response');
    const stored = typeof found.response === 'string' ? found.response : undefined;
    if (stored === undefined) throw internalError('no response found inside the cubbyhole');
    if (stored === '') return undefined;
    return parseStoredResponse(stored);
  } finally {
    await state.finishRequest(caller);
  }
}

/**
 * sys/wrapping/lookup (unauthenticated, as in Vault): creation_path,
 * creation_time and creation_ttl of a wrapping token, which stays unspent.
 */
export async function lookup(state: UnsealedState, call: WrappingCall): Promise<Record<string, unknown>> {
  const presented = presentedToken(call);
  const entry = await wrappingEntry(state, presented.token);
  const info = await readCubbyhole(state, entry.id, 'wrapinfo');
  return { creation_path: info.creation_path, creation_time: info.creation_time, creation_ttl: info.creation_ttl };
}

/**
 * sys/wrapping/rewrap: a new wrapping token for the same stored answer,
 * with the original creation TTL (or the request's wrap TTL when shorter)
 * and creation path; the old token is spent and revoked. Answers the new
 * wrap envelope.
 */
export async function rewrap(state: UnsealedState, call: WrappingCall): Promise<Record<string, unknown>> {
  const presented = presentedToken(call);
  const entry = await wrappingEntry(state, presented.token);
  const caller = await state.authenticate(call.clientToken, call.remoteAddress);
  try {
    state.authorize(caller, call.path, call.operation, { data: call.data, wrapTtlSeconds: call.wrapTtlSeconds });
    const renew = async () => {
      const info = await readCubbyhole(state, entry.id, 'wrapinfo');
      const stored = await readCubbyhole(state, entry.id, 'response');
      if (typeof stored.response !== 'string') throw internalError('no response found inside the cubbyhole');
      if (typeof info.creation_ttl !== 'number' || typeof info.creation_path !== 'string') {
        throw internalError('wrapping information in the cubbyhole is incomplete');
      }
      const asked = call.wrapTtlSeconds ?? 0;
      return mintWrappingToken(state, {
        ttl: asked > 0 && asked < info.creation_ttl ? asked : info.creation_ttl,
        creationPath: info.creation_path,
        responseText: stored.response,
        wrappedAccessor: '',
      });
    };
    return presented.thirdParty ? await spendWhile(state, entry, renew) : await renew();
  } finally {
    await state.finishRequest(caller);
  }
}

interface MintSpec {
  ttl: number;
  creationPath: string;
  /** The JSON text handed back by unwrap. */
  responseText: string;
  wrappedAccessor: string;
}

/** Creates the wrapping token, fills its cubbyhole, and returns Vault's wrap envelope. */
async function mintWrappingToken(state: UnsealedState, spec: MintSpec): Promise<Record<string, unknown>> {
  const creationTime = rfc3339NanoNow();
  const { token, entry } = await state.tokens.create({
    policies: [RESPONSE_WRAPPING_POLICY_NAME],
    parent: '',
    path: spec.creationPath,
    displayName: '',
    meta: null,
    numUses: 1,
    ttl: spec.ttl,
    explicitMaxTtl: spec.ttl,
    period: 0,
    renewable: false,
    entityId: '',
  });
  try {
    await writeCubbyhole(state, entry.id, 'response', { response: spec.responseText });
    await writeCubbyhole(state, entry.id, 'wrapinfo', {
      creation_ttl: spec.ttl,
      creation_time: creationTime,
      creation_path: spec.creationPath,
    });
  } catch (err) {
    // Not handed out yet: take it back, so no half-filled wrapping token stays usable.
    await state.tokens.revokeTree(entry.id).catch(() => undefined);
    state.core.logger.warn(`wrapping: storing a wrapped response failed: ${(err as Error).message}`);
    throw internalError('failed to store the wrapped response');
  }
  const envelope = {
    request_id: '',
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: {
      token,
      accessor: entry.accessor,
      ttl: spec.ttl,
      creation_time: creationTime,
      creation_path: spec.creationPath,
      wrapped_accessor: spec.wrappedAccessor,
    },
    warnings: null,
    auth: null,
    mount_type: '',
  };
  WRAPPED.add(envelope);
  return envelope;
}

/**
 * The wrapping token a call names: the `token` field (a third party
 * unwrapping for someone), else the client token. Vault answers a missing
 * or unusable one with 403 "error validating wrapping token: ...".
 */
function presentedToken(call: WrappingCall): { token: string; thirdParty: boolean } {
  const invalid = (why: string) => new TresorError(403, `error validating wrapping token: ${why}`);
  const field = call.data.token;
  if (field !== undefined) {
    if (typeof field !== 'string') throw invalid('could not decode token in request body');
    if (field === '') throw invalid('empty token in request body');
    // The caller's own token named in the body is still a first-party call (its use is spent once).
    return { token: field, thirdParty: !(call.clientToken !== undefined && constantTimeEqual(field, call.clientToken)) };
  }
  if (!call.clientToken) throw invalid('token is empty');
  return { token: call.clientToken, thirdParty: false };
}

/** The live entry of a wrapping token; Vault's 400 for anything else. */
async function wrappingEntry(state: UnsealedState, token: string): Promise<TokenEntry> {
  const entry = await state.tokens.lookup(token);
  if (!entry || !isWrappingToken(entry)) throw badRequest(INVALID_WRAPPING_TOKEN);
  return entry;
}

/**
 * Spends a third party's wrapping token (its only use: a concurrent
 * unwrap of the same token loses here with Vault's 400), runs `work`, and
 * revokes the token whatever happens.
 */
async function spendWhile<T>(state: UnsealedState, entry: TokenEntry, work: () => Promise<T>): Promise<T> {
  try {
    await state.tokens.use(entry);
  } catch (err) {
    if (err instanceof TresorError && err.status === 403) throw badRequest(INVALID_WRAPPING_TOKEN);
    throw err;
  }
  try {
    return await work();
  } finally {
    try {
      await state.tokens.revokeTree(entry.id);
    } catch (err) {
      // Marked as in its last use, the token is already unusable; expiry revokes it later.
      state.core.logger.warn(`wrapping: revoking a used wrapping token failed: ${(err as Error).message}`);
    }
  }
}

/** A request to the cubbyhole engine on behalf of the wrapping token whose storage id is `tokenId`. */
async function cubbyhole(state: UnsealedState, tokenId: string, operation: Operation, path: string, data: Record<string, unknown>): Promise<LogicalResponse | null> {
  const mount = state.mounts.get('cubbyhole/');
  if (!mount) throw internalError('the cubbyhole mount is missing');
  return mount.backend.handle({
    operation,
    path,
    data,
    storage: mount.storage,
    auth: { clientToken: '', accessor: '', policies: [RESPONSE_WRAPPING_POLICY_NAME], tokenId, displayName: '', entityId: '' },
    mountPoint: 'cubbyhole/',
    defaultLeaseTtl: SYSTEM_DEFAULT_LEASE_TTL,
    randomBytes: osRandom,
  });
}

async function writeCubbyhole(state: UnsealedState, tokenId: string, path: string, data: Record<string, unknown>): Promise<void> {
  await cubbyhole(state, tokenId, 'create', path, data);
}

/** A stored cubbyhole entry of the wrapping token; a missing one is a 500 (the token was made without it). */
async function readCubbyhole(state: UnsealedState, tokenId: string, path: string): Promise<Record<string, unknown>> {
  let res: LogicalResponse | null;
  try {
    res = await cubbyhole(state, tokenId, 'read', path, {});
  } catch (err) {
    if (err instanceof TresorError && err.status === 404) res = null;
    else throw err;
  }
  if (!res?.data) throw internalError('no information found for the wrapping token');
  return res.data;
}

function parseStoredResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below, without the content
  }
  throw internalError('error decoding wrapped response');
}

/** Vault's logical answer envelope, not yet wrapped (raw answers such as seal-status have no wrap_info). */
function isEnvelope(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, 'wrap_info') && (body as Record<string, unknown>).wrap_info === null;
}

/** Vault's rule before wrapping a list: keys, or at least other data or warnings. */
function listHasContent(body: Record<string, unknown>): boolean {
  const data = body.data as Record<string, unknown> | null | undefined;
  const warnings = body.warnings as unknown[] | null | undefined;
  const hasWarnings = Array.isArray(warnings) && warnings.length > 0;
  if (!data || (Object.keys(data).length === 0 && !hasWarnings)) return false;
  const keys = data.keys;
  if (keys === undefined || keys === null) return Object.keys(data).length > 0 || hasWarnings;
  return Array.isArray(keys) && keys.length > 0;
}

/** The accessor of a token-creating answer's auth block ('' for any other answer). */
function authAccessor(auth: unknown): string {
  const accessor = (auth as { accessor?: unknown } | null | undefined)?.accessor;
  return typeof accessor === 'string' ? accessor : '';
}

/**
 * Now in RFC 3339 with up to nine fraction digits and trailing zeros
 * dropped, as Go's RFC3339Nano prints it (UTC). The wall clock gives the
 * milliseconds; the digits below come from the high-resolution clock.
 */
export function rfc3339NanoNow(nowMs = Date.now(), belowMs = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = new Date(nowMs).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(belowMs).padStart(6, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}
