import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../core/core.ts';
import { TresorError } from '../core/errors.ts';

/**
 * Requests that reach an HA standby: the few sys paths every node answers
 * itself (its own seal and HA state), and everything else, which goes to
 * the active node. Forwarding replays the client's request (method, path
 * and query, headers with its own token, body) against the active node's
 * api_addr and relays the answer as is: the standby adds no authority of
 * its own. With `disable_forwarding`, the client gets a 307 to the active
 * node instead.
 */
const LOCAL_ON_STANDBY = new Set([
  'sys/health',
  'sys/leader',
  'sys/seal-status',
  'sys/seal-backend-status',
  'sys/init',
  'sys/unseal',
  'sys/seal',
]);

/** Marks a forwarded request so that two standbys that each think the other active cannot loop it. */
export const FORWARDED_HEADER = 'x-tresor-forwarded-by';
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);

/** Whether a standby answers this path itself. */
export function servedLocally(path: string): boolean {
  return LOCAL_ON_STANDBY.has(path.replace(/\/+$/, ''));
}

/**
 * Sends the request on to the active node (or redirects to it). Returns
 * false when this node must answer itself (not a standby, or a local path).
 */
export async function forwardIfStandby(
  core: Core,
  path: string,
  req: FastifyRequest,
  reply: FastifyReply,
  opts: { disableForwarding?: boolean },
): Promise<boolean> {
  const ha = core.ha;
  if (!ha || !core.standby || servedLocally(path)) return false;
  const leader = ha.leader() ?? (await ha.refreshLeader());
  if (!leader || !leader.api_address || leader.node_id === ha.nodeId) {
    throw new TresorError(500, 'local node not active but active cluster node not found');
  }
  const target = leader.api_address.replace(/\/+$/, '') + req.url;
  if (opts.disableForwarding) {
    reply.code(307).header('location', target).send();
    return true;
  }
  if (req.headers[FORWARDED_HEADER]) throw new TresorError(500, 'local node not active but active cluster node not found');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers[FORWARDED_HEADER] = ha.nodeId;
  const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  let res: Response;
  try {
    res = await fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? JSON.stringify(req.body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(60_000),
    });
  } catch {
    throw new TresorError(503, 'error forwarding the request to the active node');
  }
  const body = Buffer.from(await res.arrayBuffer());
  reply.code(res.status);
  for (const name of ['content-type', 'location', 'cache-control', 'retry-after']) {
    const value = res.headers.get(name);
    if (value) reply.header(name, value);
  }
  reply.send(body.length ? body : undefined);
  return true;
}
