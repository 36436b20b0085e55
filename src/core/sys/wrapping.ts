import type { FieldSchemas } from '../../framework/index.ts';
import { lookup, rewrap, unwrap, wrapRequestData, type WrappingCall } from '../wrapping.ts';
import { noContent, raw, type SysPath, type SysRequest } from './request.ts';

const TOKEN: FieldSchemas = {
  token: { type: 'string', description: 'The wrapping token; without it, the request\'s own token is the wrapping token.', sensitive: true },
};

function wrappingCall(req: SysRequest): WrappingCall {
  return { clientToken: req.token, data: req.data, path: `sys/${req.path}`, operation: req.operation, wrapTtlSeconds: req.wrapTtlSeconds, remoteAddress: req.remoteAddress };
}

/**
 * Response wrapping (the logic is in core/wrapping.ts). unwrap, lookup and
 * rewrap are declared unauthenticated because, as in Vault, the wrapping
 * token is checked before anything else; unwrap and rewrap then
 * authenticate the caller and check the ACL themselves, while lookup needs
 * no token at all. wrap's answer is wrapped like any other.
 */
export const wrappingPaths: SysPath[] = [
  {
    pattern: 'wrapping/wrap',
    takesArbitraryInput: true,
    synopsis: 'Wrap the request body in a single-use wrapping token (needs X-Vault-Wrap-TTL).',
    operations: { update: async (req) => ({ data: wrapRequestData(req.data, req.wrapTtlSeconds) }) },
  },
  {
    pattern: 'wrapping/unwrap',
    unauthenticated: true,
    synopsis: 'Return the answer a wrapping token holds, once.',
    fields: TOKEN,
    operations: {
      update: async (req) => {
        const body = await unwrap(req.core.unsealed(), wrappingCall(req));
        return body === undefined ? noContent() : raw(body);
      },
    },
  },
  {
    pattern: 'wrapping/lookup',
    unauthenticated: true,
    synopsis: "A wrapping token's creation path, time and TTL, without spending it.",
    fields: TOKEN,
    operations: {
      read: async (req) => ({ data: await lookup(req.core.unsealed(), wrappingCall(req)) }),
      update: async (req) => ({ data: await lookup(req.core.unsealed(), wrappingCall(req)) }),
    },
  },
  {
    pattern: 'wrapping/rewrap',
    unauthenticated: true,
    synopsis: 'Move a wrapped answer to a new wrapping token; the old one stops working.',
    fields: TOKEN,
    operations: { update: async (req) => raw(await rewrap(req.core.unsealed(), wrappingCall(req))) },
  },
];
