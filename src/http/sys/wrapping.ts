import { randomUUID } from 'node:crypto';
import type { SysContext, SysReply, SysRoute } from '../sys-routes.ts';
import { lookup, rewrap, unwrap, wrapRequestData, type WrappingCall } from '../../core/wrapping.ts';

/** Vault's envelope for a logical answer (data not repeated at the top level). */
function logicalReply(data: Record<string, unknown>): SysReply {
  return {
    body: {
      request_id: randomUUID(),
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

function wrappingCall(ctx: SysContext): WrappingCall {
  return { clientToken: ctx.token, data: ctx.data, path: ctx.path, operation: ctx.operation, wrapTtlSeconds: ctx.wrapTtlSeconds };
}

const lookupHandler = async (ctx: SysContext): Promise<SysReply> => logicalReply(await lookup(ctx.core.unsealed(), wrappingCall(ctx)));

/**
 * Response wrapping (the logic is in core/wrapping.ts). unwrap, lookup and
 * rewrap are table-public because, as in Vault, the wrapping token is
 * checked before anything else; unwrap and rewrap then authenticate the
 * caller and check the ACL themselves, while lookup needs no token at all.
 * wrap's answer is wrapped by the http layer like any other.
 */
export const wrappingRoutes: SysRoute[] = [
  {
    pattern: 'sys/wrapping/wrap',
    methods: { PUT: async ({ data, wrapTtlSeconds }) => logicalReply(wrapRequestData(data, wrapTtlSeconds)) },
  },
  {
    pattern: 'sys/wrapping/unwrap',
    public: true,
    methods: {
      PUT: async (ctx) => {
        const body = await unwrap(ctx.core.unsealed(), wrappingCall(ctx));
        return body === undefined ? {} : { body };
      },
    },
  },
  {
    pattern: 'sys/wrapping/lookup',
    public: true,
    methods: { GET: lookupHandler, PUT: lookupHandler },
  },
  {
    pattern: 'sys/wrapping/rewrap',
    public: true,
    methods: { PUT: async (ctx) => ({ body: await rewrap(ctx.core.unsealed(), wrappingCall(ctx)) }) },
  },
];
