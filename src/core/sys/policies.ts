import type { SysRoute } from '../sys-routes.ts';
import type { ACL } from '../../core/acl/index.ts';
import { sysData } from '../sys-routes.ts';
import { badRequest, notFound } from '../../core/errors.ts';

function policyText(data: Record<string, unknown>, field: 'policy' | 'rules'): string {
  const text = data[field] ?? data.policy ?? data.rules;
  if (typeof text !== 'string' || text.trim() === '') throw badRequest(`"${field}" must contain the policy document`);
  return text;
}

function pathsOf(data: Record<string, unknown>): string[] {
  const raw = data.paths ?? data.path;
  const list = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string')) {
    throw badRequest('"paths" must be a list of paths');
  }
  return list.map((p: string) => p.replace(/^\/+/, ''));
}

/**
 * Read, write and delete of one named policy. sys/policies/acl/<name> and
 * the older sys/policy/<name> differ only in the field carrying the text:
 * `policy` or `rules`.
 */
function policyDocumentRoute(pattern: string, field: 'policy' | 'rules'): SysRoute {
  return {
    pattern,
    methods: {
      GET: async ({ state, rest }) => {
        const policy = await state.policies.get(rest);
        if (policy === undefined) throw notFound();
        return sysData({ name: policy.name, [field]: policy.text });
      },
      PUT: async ({ state, rest, data }) => {
        await state.policies.put(rest, policyText(data, field));
        return {};
      },
      DELETE: async ({ state, rest }) => {
        await state.policies.delete(rest);
        return {};
      },
    },
  };
}

/** The capabilities answer: each path's capabilities, plus `capabilities` when only one path was asked. */
function capabilitiesOf(acl: ACL, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const paths = pathsOf(data);
  for (const p of paths) out[p] = acl.capabilities(p);
  if (paths.length === 1) out.capabilities = out[paths[0]];
  return out;
}

/** ACL policy management (sys/policies/acl, the older sys/policy) and capability queries. */
export const policyRoutes: SysRoute[] = [
  {
    pattern: 'sys/policies/acl',
    methods: { LIST: async ({ state }) => sysData({ keys: await state.policies.list() }) },
  },
  policyDocumentRoute('sys/policies/acl/*', 'policy'),
  {
    pattern: 'sys/policy',
    methods: {
      GET: async ({ state }) => {
        const names = await state.policies.list();
        return sysData({ policies: names, keys: names });
      },
    },
  },
  policyDocumentRoute('sys/policy/*', 'rules'),
  {
    pattern: 'sys/capabilities-self',
    ownAcl: true,
    methods: {
      PUT: async ({ caller, data }) => sysData(capabilitiesOf(caller.acl, data)),
    },
  },
  {
    pattern: 'sys/capabilities',
    methods: {
      PUT: async ({ state, data }) => {
        if (typeof data.token !== 'string' || !data.token) throw badRequest('"token" must be given');
        const entry = await state.tokens.lookup(data.token);
        if (!entry) throw badRequest('invalid token');
        return sysData(capabilitiesOf(await state.policies.acl(entry.policies), data));
      },
    },
  },
];
