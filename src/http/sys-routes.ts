import type { Core } from '../core/core.ts';
import type { Operation } from '../engines/types.ts';
import type { Caller, UnsealedState } from '../core/unsealed-state.ts';
import { TresorError } from '../core/errors.ts';
import { lifecycleRoutes } from './sys/lifecycle.ts';
import { mountRoutes } from './sys/mounts.ts';
import { policyRoutes } from './sys/policies.ts';
import { recoveryRoutes } from './sys/recovery.ts';
import { wrappingRoutes } from './sys/wrapping.ts';

export interface SysContext {
  core: Core;
  token: string | undefined;
  data: Record<string, unknown>;
  query: URLSearchParams;
  /** GET, PUT, POST, DELETE, LIST, PATCH (HEAD arrives as GET). */
  method: string;
  operation: Operation;
  /** Full path below /v1/. */
  path: string;
  /** What a trailing `*` in the route pattern matched. */
  rest: string;
  /** Seconds asked for with X-Vault-Wrap-TTL (undefined when absent). */
  wrapTtlSeconds?: number;
  /** The client's IP address as the listener saw it (rate limits of the unauthenticated quorum endpoints). */
  remoteAddress?: string;
}

export interface AuthedContext extends SysContext {
  state: UnsealedState;
  caller: Caller;
}

export interface SysReply {
  status?: number;
  /** undefined → 204 No Content. */
  body?: unknown;
}

type Handler<C> = (ctx: C) => Promise<SysReply>;
type Methods<C> = Partial<Record<'GET' | 'PUT' | 'POST' | 'DELETE' | 'LIST', Handler<C>>>;

/**
 * A sys endpoint. `pattern` is exact, or ends in `*` to match a suffix.
 * Public routes need no token and answer while sealed (Vault's
 * unauthenticated list); the rest need the server unsealed, a valid token,
 * the ACL capability on the path, and `sudo` where Vault requires it.
 */
export type SysRoute =
  | { pattern: string; public: true; methods: Methods<SysContext> }
  | {
      pattern: string;
      public?: false;
      sudo?: boolean;
      /** Needs a valid token but filters by the ACL itself (e.g. capabilities-self). */
      ownAcl?: boolean;
      methods: Methods<AuthedContext>;
    };

const ROUTES: SysRoute[] = [...lifecycleRoutes, ...recoveryRoutes, ...mountRoutes, ...policyRoutes, ...wrappingRoutes];

export interface MatchedRoute {
  rest: string;
  /** A route of Vault's unauthenticated list (no token needed). */
  public: boolean;
  run(ctx: SysContext): Promise<SysReply>;
}

export function findSysRoute(path: string, method: string): MatchedRoute | undefined {
  for (const route of ROUTES) {
    let rest: string;
    if (route.pattern.endsWith('*')) {
      const prefix = route.pattern.slice(0, -1);
      if (!path.startsWith(prefix) || path.length === prefix.length) continue;
      rest = path.slice(prefix.length);
    } else if (path === route.pattern) {
      rest = '';
    } else {
      continue;
    }
    // PUT and POST are the same in Vault's API.
    const key = (method === 'POST' && !route.methods.POST ? 'PUT' : method === 'PUT' && !route.methods.PUT ? 'POST' : method) as keyof Methods<SysContext>;
    const listViaGet = method === 'GET' && route.methods.LIST && !route.methods.GET;
    const handler = route.methods[key] ?? (listViaGet ? route.methods.LIST : undefined);
    // A LIST-only endpoint lists for a list request only (GET ?list=true or LIST, under the list capability).
    const listOnly = !route.methods[key] && listViaGet;
    if (!handler) {
      return { rest, public: route.public === true, run: async () => { throw new TresorError(405, `unsupported operation ${method} on ${path}`); } };
    }
    if (route.public) return { rest, public: true, run: handler as Handler<SysContext> };
    const authed = handler as Handler<AuthedContext>;
    return {
      rest,
      public: false,
      run: async (ctx) => {
        const state = ctx.core.unsealed();
        const caller = await state.authenticate(ctx.token);
        try {
          if (!route.ownAcl) {
            state.authorize(caller, ctx.path, ctx.operation, { data: ctx.data, wrapTtlSeconds: ctx.wrapTtlSeconds }, route.sudo === true);
          }
          // A plain GET of a LIST-only endpoint is a read, which it does not serve (Vault: 405, after the ACL check).
          if (listOnly && ctx.operation !== 'list') throw new TresorError(405, 'unsupported operation');
          return await authed({ ...ctx, state, caller });
        } finally {
          await state.finishRequest(caller);
        }
      },
    };
  }
  return undefined;
}

/** The body shape Vault uses for most authenticated sys reads: data at the top level and under `data`. */
export function sysData(data: Record<string, unknown>): SysReply {
  return {
    body: {
      ...data,
      request_id: crypto.randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data,
      wrap_info: null,
      warnings: null,
      auth: null,
    },
  };
}
