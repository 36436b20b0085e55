import type { ACL } from '../acl/index.ts';
import { badRequest, notFound } from '../errors.ts';
import type { FieldData, FieldSchemas } from '../../framework/index.ts';
import { authed, noContent, sysData, type SysPath } from './request.ts';

const NAME = { name: { type: 'string', description: 'The policy name.' } } as const satisfies FieldSchemas;

/**
 * Read, write and delete of one named policy. sys/policies/acl/<name> and
 * the older sys/policy/<name> differ only in the field carrying the text:
 * `policy` or `rules` (the older path takes either).
 */
function policyDocumentPath(prefix: string, field: 'policy' | 'rules'): SysPath {
  const fields: FieldSchemas = {
    ...NAME,
    policy: { type: 'string', description: 'The policy document, in HCL or JSON.' },
    ...(field === 'rules' ? { rules: { type: 'string', description: 'The policy document (older name of "policy").' } } : {}),
  };
  const text = (f: FieldData): string => {
    const given = (field === 'rules' ? f.getOk<string>('rules') : undefined) ?? f.getOk<string>('policy');
    if (given === undefined || given.trim() === '') throw badRequest(`"${field}" must contain the policy document`);
    return given;
  };
  return {
    pattern: `${prefix}/(?<name>.+)`,
    synopsis: 'Read, write or delete a named ACL policy.',
    fields,
    operations: {
      read: async (req, f) => {
        const policy = await authed(req).state.policies.get(f.get('name'));
        if (policy === undefined) throw notFound();
        return sysData({ name: policy.name, [field]: policy.text });
      },
      update: async (req, f) => {
        await authed(req).state.policies.put(f.get('name'), text(f));
        return noContent();
      },
      delete: async (req, f) => {
        await authed(req).state.policies.delete(f.get('name'));
        return noContent();
      },
    },
  };
}

const CAPABILITY_FIELDS: FieldSchemas = {
  path: { type: 'comma-string-slice', description: 'Paths to report capabilities on (older name of "paths").' },
  paths: { type: 'comma-string-slice', description: 'Paths to report capabilities on.' },
};

/** The capabilities answer: each path's capabilities, plus `capabilities` when only one path was asked. */
function capabilitiesOf(acl: ACL, f: FieldData): Record<string, unknown> {
  const paths = (f.getOk<string[]>('paths') ?? f.getOk<string[]>('path') ?? []).map((p) => p.replace(/^\/+/, ''));
  if (paths.length === 0) throw badRequest('"paths" must be a list of paths');
  const out: Record<string, unknown> = {};
  for (const p of paths) out[p] = acl.capabilities(p);
  if (paths.length === 1) out.capabilities = out[paths[0]];
  return out;
}

/** ACL policy management (sys/policies/acl, the older sys/policy) and capability queries. */
export const policyPaths: SysPath[] = [
  {
    pattern: 'policies/acl',
    synopsis: 'List the ACL policies.',
    operations: { list: async (req) => sysData({ keys: await authed(req).state.policies.list() }) },
  },
  policyDocumentPath('policies/acl', 'policy'),
  {
    pattern: 'policy',
    synopsis: 'List the ACL policies (older path).',
    operations: {
      read: async (req) => {
        const names = await authed(req).state.policies.list();
        return sysData({ policies: names, keys: names });
      },
    },
  },
  policyDocumentPath('policy', 'rules'),
  {
    pattern: 'capabilities-self',
    authorizesItself: true,
    synopsis: "The calling token's capabilities on paths.",
    fields: { ...CAPABILITY_FIELDS, token: { type: 'string', description: 'Ignored: the calling token is used.', sensitive: true } },
    operations: { update: async (req, f) => sysData(capabilitiesOf(authed(req).caller.acl, f)) },
  },
  {
    pattern: 'capabilities',
    synopsis: "Another token's capabilities on paths.",
    fields: { ...CAPABILITY_FIELDS, token: { type: 'string', description: 'The token to report on.', sensitive: true, required: '"token" must be given' } },
    operations: {
      update: async (req, f) => {
        const { state } = authed(req);
        const token = f.get<string>('token');
        if (!token) throw badRequest('"token" must be given');
        const entry = await state.tokens.lookup(token);
        if (!entry) throw badRequest('invalid token');
        return sysData(capabilitiesOf(await state.aclFor(entry), f));
      },
    },
  },
];
