/**
 * The `auth/token/` API over a TokenStore, as declared paths. Every path
 * needs an authenticated caller (req.auth) whose token is still live; the
 * root policy or sudo on the path (req.auth.sudo) unlocks the sudo-only
 * options. revoke-orphan and accessors/ are Vault's root-protected paths:
 * their declarations say `sudo`, so the core refuses them without it before
 * anything runs. Roles (roles/, create/<role_name>) are in token-roles.ts
 * and create-rules.ts. Batch tokens answer lookups but refuse revocation and
 * renewal with Vault's texts. Not built yet: tidy.
 */
import { defineBackend, genericName, type FieldData, type FieldSchemas, type OperationHandler, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse } from '../../engines/types.ts';
import { badRequest, permissionDenied } from '../errors.ts';
import { decideTokenSpec, type TokenCreateRequest } from './create-rules.ts';
import { rolePaths, type TokenRole } from './token-roles.ts';
import type { TokenEntry } from './token-entry.ts';
import { authBlock, lookupData } from './token-response.ts';
import type { TokenStore } from './token-store.ts';

/** A handler that also gets the caller's live token entry. */
type CallerHandler = (req: LogicalRequest, fields: FieldData, caller: TokenEntry) => Promise<LogicalResponse>;

const NO_CONTENT: LogicalResponse = { status: 204 };

/** The fields of create and create-orphan (Vault's commonFieldsForCreate, as far as Tresor acts on them). */
const CREATE_FIELDS: FieldSchemas = {
  id: { type: 'string', description: 'Value for the token instead of a random one (root or sudo only).', sensitive: true },
  policies: { type: 'comma-string-slice', description: 'Policies for the token; by default the parent\'s. Without root or sudo, a subset of the parent\'s.' },
  meta: { type: 'kv-pairs', description: 'Arbitrary key=value metadata to associate with the token.' },
  no_parent: { type: 'bool', description: 'Create the token with no parent (root or sudo only).' },
  no_default_policy: { type: 'bool', description: 'Do not add the default policy to the token.' },
  renewable: { type: 'bool', default: true, description: 'Allow the token to be renewed past its initial TTL.' },
  ttl: { type: 'duration', description: 'Time to live of the token; the store default when not set.' },
  explicit_max_ttl: { type: 'duration', description: 'Hard limit on the token\'s life, renewals included.' },
  period: { type: 'duration', description: 'Make a periodic token, renewed to this TTL each time (root or sudo only).' },
  display_name: { type: 'string', description: 'Name to associate with the token (shown as token-<name>).' },
  num_uses: { type: 'int', description: 'Number of uses before the token is revoked; 0 is unlimited.' },
  type: { type: 'string', description: 'Token type: "service" (the default) or "batch" (not stored, not renewable nor revocable, no accessor).' },
  entity_alias: { type: 'string', description: 'With a role: name of an entity alias (one the role\'s allowed_entity_aliases lists) whose entity the token is tied to.' },
};

/** create/<role_name> also names the role. */
const ROLE_CREATE_FIELDS: FieldSchemas = {
  role_name: { type: 'string', description: 'Name of the role whose rules apply.' },
  ...CREATE_FIELDS,
};

const TOKEN_FIELD = (what: string): FieldSchemas => ({ token: { type: 'string', description: what, sensitive: true } });
const ACCESSOR_FIELD = (what: string): FieldSchemas => ({ accessor: { type: 'string', description: what } });
const INCREMENT_FIELD: FieldSchemas = {
  increment: { type: 'duration', default: 0, description: 'Requested extension of the token\'s TTL; 0 reuses its creation TTL.' },
};

/** The create request from decoded fields. */
function createRequest(fields: FieldData): TokenCreateRequest {
  return {
    id: fields.getOk<string>('id'),
    policies: fields.getOk<string[]>('policies'),
    meta: fields.getOk<Record<string, string>>('meta'),
    noParent: fields.get<boolean>('no_parent'),
    noDefaultPolicy: fields.get<boolean>('no_default_policy'),
    renewable: fields.get<boolean>('renewable'),
    ttl: fields.get<number>('ttl'),
    explicitMaxTtl: fields.get<number>('explicit_max_ttl'),
    period: fields.get<number>('period'),
    displayName: fields.get<string>('display_name'),
    numUses: fields.get<number>('num_uses'),
    type: fields.getOk<string>('type'),
    entityAlias: fields.get<string>('entity_alias') || undefined,
  };
}

/** Vault's answers for what batch tokens cannot do. */
const batchNotRevocable = () => badRequest('batch tokens cannot be revoked');
const batchNotRenewable = () => badRequest('batch tokens cannot be renewed');

export function createTokenBackend(store: TokenStore): LogicalBackend {
  /** Runs `handler` for a caller whose token is live; anyone else is refused. */
  const withCaller = (handler: CallerHandler): OperationHandler<LogicalRequest> => async (req, fields) => {
    if (!req.auth) throw permissionDenied();
    const caller = await store.entryForRequest(req.auth);
    if (!caller) throw permissionDenied();
    return handler(req, fields, caller);
  };
  const requiredToken = (fields: FieldData): string => {
    const token = fields.get<string>('token');
    if (!token) throw badRequest('missing token');
    return token;
  };
  const requiredAccessor = (fields: FieldData): string => {
    const accessor = fields.get<string>('accessor');
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
  // The core already demands sudo on these paths; this keeps the handler safe when called directly.
  const requireRootOrSudo = (req: LogicalRequest) => {
    if (!req.auth!.policies.includes('root') && !req.auth!.sudo) throw permissionDenied();
  };
  const create = (orphanEndpoint: boolean, role?: TokenRole): CallerHandler => async (req, fields, caller) => {
    const { spec, warnings, entityAlias } = decideTokenSpec(createRequest(fields), {
      caller, callerPolicies: req.auth!.policies, callerSudo: req.auth!.sudo === true, orphanEndpoint, role,
      path: `${req.mountPoint.replace(/\/?$/, '/')}${req.path}`, defaultTtl: store.defaultTtl, maxTtl: store.maxTtl,
    });
    if (entityAlias !== undefined) {
      // Only now, with every rule passed: finding the entity may create it.
      if (!store.entityForAlias) throw badRequest('failed to create or fetch entity from given entity alias');
      const entity = await store.entityForAlias(entityAlias);
      if (entity.disabled) throw permissionDenied('entity from given entity alias is disabled');
      spec.entityId = entity.id;
    }
    const { token, entry } = await store.create(spec);
    return { auth: authBlock(entry, token, entry.ttl), ...withWarnings(warnings) };
  };
  const createAgainstRole: CallerHandler = async (req, fields, caller) => {
    const name = fields.get<string>('role_name');
    const role = await store.roles.get(name);
    if (!role) throw badRequest(`unknown role ${name}`);
    return create(false, role)(req, fields, caller);
  };
  const renew = async (entry: TokenEntry, clientToken: string, fields: FieldData): Promise<LogicalResponse> => {
    if (entry.type === 'batch') throw batchNotRenewable();
    const { entry: renewed, ttl, warnings } = await store.renew(entry, fields.get<number>('increment'));
    return { auth: authBlock(renewed, clientToken, ttl), ...withWarnings(warnings) };
  };
  const lookupResponse = async (entry: TokenEntry, clientToken: string): Promise<LogicalResponse> => {
    const data = lookupData(entry, clientToken, store.now());
    const identityPolicies = entry.entityId && store.identityPolicies ? await store.identityPolicies(entry.entityId) : [];
    if (identityPolicies.length > 0) {
      data.identity_policies = identityPolicies;
      data.external_namespace_policies = {};
    }
    return { data };
  };
  const lookupSelf = withCaller(async (req, _fields, caller) => lookupResponse(caller, req.auth!.clientToken));
  const lookup = withCaller(async (_req, fields) => {
    const token = requiredToken(fields);
    return lookupResponse(await byToken(token), token);
  });
  /** revoke / revoke-self / revoke-orphan on a batch token: Vault's 400 (it cannot be revoked, only expire). */
  const refuseBatch = (entry: TokenEntry | undefined) => {
    if (entry?.type === 'batch') throw batchNotRevocable();
  };

  const paths: PathDeclaration<LogicalRequest>[] = [
    ...rolePaths({ roles: store.roles, maxTtl: store.maxTtl }),
    {
      pattern: `create/${genericName('role_name')}`,
      fields: ROLE_CREATE_FIELDS,
      synopsis: 'Create a token under the rules of a token role.',
      description:
        'As create, with the role\'s rules: its allowed and disallowed policies (instead of the subset-of-parent rule), orphan, period, explicit max TTL, use limit, bound CIDRs and token type; the token\'s path gets the role name (and path suffix).',
      operations: { update: { summary: 'Create a token against a role.', handler: withCaller(createAgainstRole) } },
    },
    {
      pattern: 'accessors/?',
      sudo: true,
      synopsis: 'List the accessors of every token (root or sudo).',
      description: 'Lists the accessor of each live token; an accessor can look up, renew or revoke its token without revealing it.',
      operations: {
        list: {
          summary: 'List token accessors.',
          handler: withCaller(async (req) => {
            requireRootOrSudo(req);
            return { data: { keys: await store.listAccessors() } };
          }),
        },
      },
    },
    {
      pattern: 'create-orphan',
      fields: CREATE_FIELDS,
      synopsis: 'Create a token with no parent.',
      description: 'Like create, but the new token is an orphan: revoking the caller does not revoke it. Needs no sudo; the ACL on this path decides.',
      operations: { update: { summary: 'Create an orphan token.', handler: withCaller(create(true)) } },
    },
    {
      pattern: 'create',
      fields: CREATE_FIELDS,
      synopsis: 'Create a token as a child of the calling token.',
      description: 'The child gets the caller\'s policies unless others are named; it is revoked with its parent unless it is an orphan.',
      operations: { update: { summary: 'Create a token.', handler: withCaller(create(false)) } },
    },
    {
      pattern: 'lookup',
      fields: TOKEN_FIELD('Token to look up (request body).'),
      synopsis: 'Show the properties of a token.',
      operations: {
        read: { summary: 'Look up a token.', handler: lookup },
        update: { summary: 'Look up a token.', handler: lookup },
      },
    },
    {
      pattern: 'lookup-accessor',
      fields: ACCESSOR_FIELD('Accessor of the token to look up (request body).'),
      synopsis: 'Show the properties of the token an accessor belongs to, without the token itself.',
      operations: {
        update: {
          summary: 'Look up a token by its accessor.',
          handler: withCaller(async (_req, fields) => lookupResponse(await byAccessor(requiredAccessor(fields)), '')),
        },
      },
    },
    {
      pattern: 'lookup-self',
      fields: TOKEN_FIELD('Unused: the calling token is the one looked up.'),
      synopsis: 'Show the properties of the calling token.',
      operations: {
        read: { summary: 'Look up the calling token.', handler: lookupSelf },
        update: { summary: 'Look up the calling token.', handler: lookupSelf },
      },
    },
    {
      pattern: 'revoke-accessor',
      fields: ACCESSOR_FIELD('Accessor of the token to revoke (request body).'),
      synopsis: 'Revoke the token an accessor belongs to, and its children.',
      operations: {
        update: {
          summary: 'Revoke a token by its accessor.',
          handler: withCaller(async (_req, fields) => {
            await store.revokeTree((await byAccessor(requiredAccessor(fields))).id);
            return NO_CONTENT;
          }),
        },
      },
    },
    {
      pattern: 'revoke-self',
      synopsis: 'Revoke the calling token and its children.',
      operations: {
        update: {
          summary: 'Revoke the calling token.',
          handler: withCaller(async (_req, _fields, caller) => {
            refuseBatch(caller);
            await store.revokeTree(caller.id);
            return NO_CONTENT;
          }),
        },
      },
    },
    {
      pattern: 'revoke',
      fields: TOKEN_FIELD('Token to revoke (request body).'),
      synopsis: 'Revoke a token and its children.',
      description: 'Revoking an unknown token succeeds: the token is gone either way.',
      operations: {
        update: {
          summary: 'Revoke a token.',
          handler: withCaller(async (_req, fields) => {
            const entry = await store.lookup(requiredToken(fields));
            refuseBatch(entry);
            if (entry) await store.revokeTree(entry.id);
            return NO_CONTENT;
          }),
        },
      },
    },
    {
      pattern: 'revoke-orphan',
      sudo: true,
      fields: TOKEN_FIELD('Token to revoke (request body).'),
      synopsis: 'Revoke a token but not its children, which become orphans (root or sudo).',
      operations: {
        update: {
          summary: 'Revoke a token and orphan its children.',
          handler: withCaller(async (req, fields) => {
            requireRootOrSudo(req);
            const entry = await store.lookup(requiredToken(fields));
            refuseBatch(entry);
            if (entry) await store.revokeOrphan(entry.id);
            return NO_CONTENT;
          }),
        },
      },
    },
    {
      pattern: 'renew-accessor',
      fields: { ...ACCESSOR_FIELD('Accessor of the token to renew (request body).'), ...INCREMENT_FIELD },
      synopsis: 'Renew the token an accessor belongs to, without revealing it.',
      operations: {
        update: {
          summary: 'Renew a token by its accessor.',
          handler: withCaller(async (_req, fields) => renew(await byAccessor(requiredAccessor(fields)), '', fields)),
        },
      },
    },
    {
      pattern: 'renew-self',
      fields: { ...TOKEN_FIELD('Unused: the calling token is the one renewed.'), ...INCREMENT_FIELD },
      synopsis: 'Renew the calling token.',
      operations: {
        update: {
          summary: 'Renew the calling token.',
          handler: withCaller(async (req, fields, caller) => renew(caller, req.auth!.clientToken, fields)),
        },
      },
    },
    {
      pattern: 'renew',
      fields: { ...TOKEN_FIELD('Token to renew (request body).'), ...INCREMENT_FIELD },
      synopsis: 'Renew a token.',
      description: 'Extends the token\'s TTL by the increment, within its explicit max TTL and the store\'s maximum; periodic tokens renew to their period.',
      operations: {
        update: {
          summary: 'Renew a token.',
          handler: withCaller(async (_req, fields) => {
            const token = requiredToken(fields);
            return renew(await byToken(token), token, fields);
          }),
        },
      },
    },
  ];
  return defineBackend('token', paths);
}

function withWarnings(warnings: string[]): Pick<LogicalResponse, 'warnings'> {
  return warnings.length > 0 ? { warnings } : {};
}
