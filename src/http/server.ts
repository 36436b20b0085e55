import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Core } from '../core/core.ts';
import { badRequest, sealedError, TresorError } from '../core/errors.ts';
import { DEFAULT_MAX_REQUEST_SIZE } from '../config/stanzas.ts';
import { parseDuration } from '../config/duration.ts';
import { BarrierDecryptError, BarrierSealedError } from '../barrier/aes-gcm-barrier.ts';
import type { Logger } from '../logger.ts';
import { operationFor, parseApiUrl } from './request-path.ts';
import { handleApiRequest, isSysPath, isUnauthenticated } from '../core/api.ts';
import { disabledUnauthedEndpoint, type UnauthedEndpointOptions } from './unauthed-endpoints.ts';
import { registerUi } from './ui.ts';
import { forwardIfStandby } from './forward.ts';
import { bodyTooLarge, limitBody, parseJsonBody, UNAUTHENTICATED_BODY_LIMIT } from './json-body.ts';
import { pathClass, requestCount, requestLatency } from '../metrics.ts';

export interface HttpOptions extends UnauthedEndpointOptions {
  /** Largest accepted request body; Vault's listener default is 32 MiB. */
  maxRequestSize?: number;
  logger: Logger;
  /** Serve the web UI at /ui/ (config `ui = true`). */
  ui?: boolean;
  /** HA: answer a standby's requests with a 307 to the active node instead of forwarding them. */
  disableForwarding?: boolean;
  /** The listener's `telemetry { unauthenticated_metrics_access = true }`: sys/metrics without a token. */
  unauthenticatedMetricsAccess?: boolean;
}

/** The API path of a request, kept by handleApi for the request metrics. */
const metricPath = Symbol('tresor.metricPath');
type MetricRequest = FastifyRequest & { [metricPath]?: string };
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];


/**
 * Builds the HTTP API: one catch-all route under /v1/ that hands every
 * request to the core's entry point (core/api.ts).
 */
export function createHttpServer(core: Core, opts: HttpOptions): FastifyInstance {
  const maxRequestSize = opts.maxRequestSize ?? DEFAULT_MAX_REQUEST_SIZE;
  const app = Fastify({
    logger: false,
    bodyLimit: maxRequestSize,
    // Paths are decoded and checked by parseApiUrl, not by the framework.
    routerOptions: { ignoreDuplicateSlashes: false },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  // LIST arrives as GET ?list=true: Node's parser refuses unknown verbs, so
  // the listener rewrites it first (see list-verb.ts).

  // Anonymous requests get a small body limit, enforced while the body is
  // read (and from Content-Length before), so they cannot make the server
  // buffer and parse max_request_size bytes each.
  const anonymousLimit = Math.min(UNAUTHENTICATED_BODY_LIMIT, maxRequestSize);
  app.addHook('preParsing', async (req, _reply, payload) => {
    const declared = Number(req.headers['content-length']);
    const small = Number.isFinite(declared) && declared <= anonymousLimit;
    // A body larger than the anonymous limit is read only for a live token: the token is
    // looked up first (without spending a use), so a made-up token buys no more than none.
    if (!isAnonymous(core, req) && (small || (await holdsLiveToken(core, req)))) return payload;
    if (declared > anonymousLimit) throw bodyTooLarge();
    return limitBody(payload, anonymousLimit);
  });

  // Vault clients send JSON with any (or no) content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    try {
      done(null, parseJsonBody(body));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err, _req, reply) => sendError(reply, err, opts.logger));
  app.setNotFoundHandler((_req, reply) => {
    sendErrors(reply, 404, []);
  });

  // One histogram observe and one counter increment per request. A path that
  // matched nothing (404) or never parsed is counted as "unknown", so made-up
  // paths cannot grow the label set.
  app.addHook('onResponse', (req: MetricRequest, reply, done) => {
    const code = reply.statusCode;
    const path = req[metricPath] !== undefined && code !== 404 ? pathClass(req[metricPath]) : 'unknown';
    requestLatency.observe({ method: req.method, path, status: STATUS_CLASSES[Math.floor(code / 100) - 1] ?? 'other' }, reply.elapsedTime);
    requestCount.inc({ method: req.method, path, code });
    done();
  });

  app.route({
    method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'],
    url: '/v1/*',
    handler: (req, reply) => handleApi(core, req, reply, opts),
  });
  if (opts.ui) registerUi(app);
  return app;
}

async function handleApi(core: Core, req: FastifyRequest, reply: FastifyReply, opts: HttpOptions): Promise<void> {
  const parsed = parseApiUrl(req.url);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const operation = parsed && operationFor(method, parsed.query);
  if (!parsed || !operation) {
    sendErrors(reply, 405, ['unsupported operation']);
    return;
  }
  if (core.ha && (await forwardIfStandby(core, parsed.path, req, reply, opts))) return;
  (req as MetricRequest)[metricPath] = parsed.path;
  // Vault reads a DELETE's parameters from the query only; sys/ keeps its body (the rekey and generate-root cancel nonce).
  const body = method === 'DELETE' && !isSysPath(parsed.path) ? undefined : req.body;
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw new TresorError(400, 'the request body must be a JSON object');
  }
  const data: Record<string, unknown> = {};
  // A "__proto__" key would set data's prototype on assignment: drop it.
  for (const [k, v] of parsed.query) if (k !== 'list' && k !== 'help' && k !== '__proto__') data[k] = v;
  // JSON null is "not given", as Vault's decoding takes it (hvac sends null for every field left out).
  for (const [k, v] of Object.entries(body ?? {})) if (k !== '__proto__' && v !== null) data[k] = v;

  const remoteAddress = req.socket.remoteAddress;
  const disabled = disabledUnauthedEndpoint(parsed.path.replace(/\/+$/, ''), opts);
  if (disabled) {
    opts.logger.warn(`http: refused ${method} ${parsed.path} from ${remoteAddress ?? 'an unknown address'}: disabled on this listener`);
    throw disabled;
  }
  const out = await handleApiRequest(core, {
    operation,
    path: parsed.path,
    data,
    token: requestToken(req),
    wrapTtlSeconds: requestWrapTtl(req),
    remoteAddress,
    remotePort: req.socket.remotePort,
    help: parsed.query.has('help') && parsed.query.get('help') !== '',
    unauthenticatedMetrics: opts.unauthenticatedMetricsAccess === true,
  });
  reply.code(out.status);
  if (out.body === undefined) reply.send();
  else if (out.contentType) reply.header('content-type', out.contentType).send(Buffer.from(String(out.body)));
  else sendJson(reply, out.body);
}

/**
 * The wrap TTL asked for with `X-Vault-Wrap-TTL`, in seconds (a number of
 * seconds or a duration such as "5m"); undefined when the header is absent.
 * Policies' min/max_wrapping_ttl are checked against it.
 */
export function requestWrapTtl(req: FastifyRequest): number | undefined {
  const header = req.headers['x-vault-wrap-ttl'];
  const text = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!text) return undefined;
  const invalid = (why: string) => new TresorError(400, `error parsing X-Vault-Wrap-TTL header: ${why}`);
  if (text.startsWith('-')) throw invalid('requested wrap ttl cannot be negative');
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof TresorError) throw invalid(err.message);
    throw err;
  }
}

/**
 * Whether a request is one of Vault's unauthenticated endpoints (sys, or an
 * auth method's login), or carries no token at all (so can only be refused,
 * or is one of those).
 */
function isAnonymous(core: Core, req: FastifyRequest): boolean {
  if (!requestToken(req)) return true;
  let parsed;
  try {
    parsed = parseApiUrl(req.url);
  } catch {
    return true; // refused with a 400 anyway
  }
  if (!parsed) return true;
  return isUnauthenticated(core, parsed.path);
}

/** Whether the request's token is live (the server unsealed and the token known and unexpired). */
async function holdsLiveToken(core: Core, req: FastifyRequest): Promise<boolean> {
  const token = requestToken(req);
  // A standby forwards the body to the active node, which applies its own limits and checks the token.
  if (token && core.standby) return true;
  if (!token || core.sealed) return false;
  try {
    return (await core.unsealed().tokens.lookup(token)) !== undefined;
  } catch {
    return false;
  }
}

/** The client token from `X-Vault-Token`, or `Authorization: Bearer`. */
export function requestToken(req: FastifyRequest): string | undefined {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim() || undefined;
  return undefined;
}

function sendError(reply: FastifyReply, err: unknown, logger: Logger): void {
  if (err instanceof TresorError) {
    if (err.status >= 500) logger.warn(`http: ${err.status} ${err.message}`);
    sendErrors(reply, err.status, err.message ? [err.message, ...err.details] : err.details);
    return;
  }
  if (err instanceof BarrierSealedError) {
    sendError(reply, sealedError(), logger);
    return;
  }
  if (err instanceof BarrierDecryptError) {
    logger.error(`http: barrier decryption failed: ${err.message}`);
    sendErrors(reply, 500, ['internal error: a stored value failed its integrity check']);
    return;
  }
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    sendErrors(reply, 413, ['http: request body too large']);
    return;
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    sendErrors(reply, e.statusCode, [e.message ?? 'bad request']);
    return;
  }
  logger.error(`http: unexpected error: ${e.message ?? String(err)}`);
  sendErrors(reply, 500, ['internal error']);
}

/** Vault's error body. */
function sendErrors(reply: FastifyReply, status: number, errors: string[]): void {
  sendJson(reply.code(status), { errors });
}

/**
 * Sends JSON with Content-Type exactly `application/json`, as Vault does: hvac
 * parses error bodies only then. Fastify appends `; charset=utf-8` to a string
 * payload, so the body goes out as a Buffer.
 */
function sendJson(reply: FastifyReply, body: unknown): void {
  reply.header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}
