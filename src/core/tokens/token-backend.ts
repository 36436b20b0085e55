import { legacyBackend } from '../../framework/index.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, Operation } from '../../engines/types.ts';
import { badRequest, permissionDenied, TresorError } from '../errors.ts';
import { decideTokenSpec } from './create-rules.ts';
import { durationSeconds, optionalString } from '../request-fields.ts';
import type { TokenEntry } from './token-entry.ts';
import { authBlock, lookupData } from './token-response.ts';
import type { TokenStore } from './token-store.ts';

type Handler = (req: LogicalRequest, caller: TokenEntry) => Promise<LogicalResponse>;
interface Route {
  operations: Operation[];
  handler: Handler;
}

const WRITE: Operation[] = ['create', 'update'];
const READ_OR_WRITE: Operation[] = ['read', 'create', 'update'];
const NO_CONTENT: LogicalResponse = { status: 204 };

/**
 * The `auth/token/` API over a TokenStore. Every path needs an
 * authenticated caller (req.auth); the root policy or sudo on the path
 * (req.auth.sudo) unlocks the sudo-only options. Paths: create, create-orphan, lookup, lookup-self,
 * lookup-accessor, renew, renew-self, renew-accessor, revoke, revoke-self,
 * revoke-accessor, revoke-orphan, accessors (LIST).
 */
export function createTokenBackend(store: TokenStore): LogicalBackend {
  const requiredToken = (req: LogicalRequest): string => {
    const token = optionalString(req.data.token, 'token');
    if (!token) throw badRequest('missing token');
    return token;
  };
  const requiredAccessor = (req: LogicalRequest): string => {
    const accessor = optionalString(req.data.accessor, 'accessor');
    if (!accessor) throw badRequest('missing accessor');
    return accessor;
  };
  const byToken = async (token: string): Promise<TokenEntry> => {
    const entry = await store.lookup(token);
    if (!entry) throw permissionDenied('bad token');
    return entry;
  };
  const byAccessor = async (accessor: string): Promise<TokenEntry> => {
    const entry = await store.lookupAccessor(accessor);
    if (!entry) throw badRequest('invalid accessor');
    return entry;
  };
  const requireRootOrSudo = (req: LogicalRequest) => {
    if (!req.auth!.policies.includes('root') && !req.auth!.sudo) throw permissionDenied();
  };
  const create = (orphanEndpoint: boolean): Handler => async (req, caller) => {
    const { spec, warnings } = decideTokenSpec(req.data, {
      caller, callerPolicies: req.auth!.policies, callerSudo: req.auth!.sudo === true, orphanEndpoint,
      path: `${req.mountPoint.replace(/\/?$/, '/')}${req.path}`, defaultTtl: store.defaultTtl, maxTtl: store.maxTtl,
    });
    const { token, entry } = await store.create(spec);
    return { auth: authBlock(entry, token, entry.ttl), ...withWarnings(warnings) };
  };
  const renew = async (entry: TokenEntry, clientToken: string, req: LogicalRequest): Promise<LogicalResponse> => {
    const { entry: renewed, ttl, warnings } = await store.renew(entry, durationSeconds(req.data.increment, 'increment'));
    return { auth: authBlock(renewed, clientToken, ttl), ...withWarnings(warnings) };
  };
  const lookupResponse = (entry: TokenEntry, clientToken: string): LogicalResponse => ({
    data: lookupData(entry, clientToken, store.now()),
  });

  const routes: Record<string, Route> = {
    create: { operations: WRITE, handler: create(false) },
    'create-orphan': { operations: WRITE, handler: create(true) },
    lookup: {
      operations: READ_OR_WRITE,
      handler: async (req) => {
        const token = requiredToken(req);
        return lookupResponse(await byToken(token), token);
      },
    },
    'lookup-self': {
      operations: READ_OR_WRITE,
      handler: async (req, caller) => lookupResponse(caller, req.auth!.clientToken),
    },
    'lookup-accessor': {
      operations: WRITE,
      handler: async (req) => lookupResponse(await byAccessor(requiredAccessor(req)), ''),
    },
    renew: {
      operations: WRITE,
      handler: async (req) => {
        const token = requiredToken(req);
        return renew(await byToken(token), token, req);
      },
    },
    'renew-self': { operations: WRITE, handler: async (req, caller) => renew(caller, req.auth!.clientToken, req) },
    'renew-accessor': {
      operations: WRITE,
      handler: async (req) => renew(await byAccessor(requiredAccessor(req)), '', req),
    },
    revoke: {
      operations: WRITE,
      handler: async (req) => {
        // Revoking an unknown token succeeds, as in Vault: the goal state holds.
        const entry = await store.lookup(requiredToken(req));
        if (entry) await store.revokeTree(entry.id);
        return NO_CONTENT;
      },
    },
    'revoke-self': {
      operations: WRITE,
      handler: async (_req, caller) => {
        await store.revokeTree(caller.id);
        return NO_CONTENT;
      },
    },
    'revoke-accessor': {
      operations: WRITE,
      handler: async (req) => {
        await store.revokeTree((await byAccessor(requiredAccessor(req))).id);
        return NO_CONTENT;
      },
    },
    'revoke-orphan': {
      operations: WRITE,
      handler: async (req) => {
        requireRootOrSudo(req);
        const entry = await store.lookup(requiredToken(req));
        if (entry) await store.revokeOrphan(entry.id);
        return NO_CONTENT;
      },
    },
    accessors: {
      operations: ['list'],
      handler: async (req) => {
        requireRootOrSudo(req);
        return { data: { keys: await store.listAccessors() } };
      },
    },
  };

  return legacyBackend('token', async (req) => {
      // A list arrives with a trailing "/" (the core names folders so); "accessors/" is "accessors".
      const name = req.operation === 'list' ? req.path.replace(/\/$/, '') : req.path;
      const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
      if (!route) return null;
      if (!route.operations.includes(req.operation)) throw new TresorError(405, 'unsupported operation');
      if (!req.auth) throw permissionDenied();
      const caller = await store.requestEntry(req.auth.tokenId);
      if (!caller) throw permissionDenied();
      return route.handler(req, caller);
    });
}

function withWarnings(warnings: string[]): Pick<LogicalResponse, 'warnings'> {
  return warnings.length > 0 ? { warnings } : {};
}
