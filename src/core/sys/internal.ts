import { VERSION } from '../core.ts';
import type { ACL } from '../acl/index.ts';
import { raw, type SysPath, type SysRequest } from './request.ts';

/**
 * The OpenAPI 3 document of every path this server serves, generated from
 * the declarations (sys/ and each mount). Without a valid token it lists
 * the unauthenticated sys paths only, so it does not reveal mount points;
 * with one, the paths under which the token has some access.
 */
async function openApiDocument(req: SysRequest, sysBackendPaths: () => Record<string, Record<string, unknown>>): Promise<Record<string, unknown>> {
  const acl = await callerAcl(req);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, item] of Object.entries(sysBackendPaths())) {
    if (item['x-vault-unauthenticated'] === true || (acl && visible(acl, path))) paths[path] = item;
  }
  if (acl && !req.core.sealed) {
    for (const entry of req.core.unsealed().mounts.list('secret').concat(req.core.unsealed().mounts.list('auth'))) {
      if (entry.type === 'system' || !acl.hasAccessUnder(entry.path)) continue;
      const backend = req.core.unsealed().mounts.get(entry.path)?.backend;
      if (backend) Object.assign(paths, backend.openApiPaths(entry.path));
    }
  }
  return {
    openapi: '3.0.2',
    info: {
      title: 'Tresor API',
      description: 'The HTTP API of Tresor, compatible with HashiCorp Vault. Every path is under /v1/.',
      version: VERSION,
      license: { name: 'MPL-2.0', url: 'https://www.mozilla.org/en-US/MPL/2.0' },
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: { schemas: {} },
  };
}

/** The ACL of the request's token without spending one of its uses; undefined without a valid token. */
export async function callerAcl(req: SysRequest): Promise<ACL | undefined> {
  if (!req.token || req.core.sealed) return undefined;
  const state = req.core.unsealed();
  const entry = await state.tokens.lookup(req.token);
  return entry ? state.aclFor(entry).catch(() => undefined) : undefined;
}

/** A templated path is shown when the token has some access under its literal part. */
function visible(acl: ACL, templatePath: string): boolean {
  const literal = templatePath.slice(1).split('{')[0];
  return acl.hasAccessUnder(literal);
}

/** Paths about the server itself: its API description. */
export const internalPaths: SysPath[] = [
  {
    pattern: 'internal/specs/openapi',
    unauthenticated: true,
    synopsis: 'The OpenAPI 3 document of the paths this server serves.',
    operations: {
      read: async (req) => {
        // Imported lazily: the system backend's own declarations include this path.
        const { sysBackend } = await import('./index.ts');
        return raw(await openApiDocument(req, () => sysBackend.openApiPaths('sys/')));
      },
    },
  },
];
