/**
 * The `userpass` auth method: users with a password (kept as a salted
 * scrypt hash) and token settings, and `login/<username>`, which needs no
 * token. Vault's paths, fields and answers (builtin/credential/userpass).
 *
 * Storage (the mount's own view): `user/<lower-case name>` → UserEntry JSON.
 */
import { badRequest, notFound, permissionDenied } from '../../core/errors.ts';
import { KeyedLock } from '../../core/keyed-lock.ts';
import { defineBackend, genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import { getJson, putJson } from '../../engines/storage-json.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, LogicalStorage } from '../../engines/types.ts';
import { addressAllowed, validCidrList } from '../../core/cidr.ts';
import { emptyTokenParams, loginAuth, parseTokenFields, TOKEN_FIELDS, tokenData, upgradeValue, type TokenParams } from '../token-params.ts';
import { dummyHash, hashPassword, verifyPassword, type PasswordHash } from './password.ts';

interface UserEntry extends TokenParams {
  password_hash?: PasswordHash;
  /** Deprecated fields, kept as Vault keeps them (read back when set). */
  policies?: string[];
  ttl?: number;
  max_ttl?: number;
  bound_cidrs?: string[];
}

const NO_CONTENT: LogicalResponse = { status: 204 };
const INVALID_LOGIN = 'invalid username or password';
const userKey = (name: string) => `user/${name.toLowerCase()}`;

const deprecated = (field: string) => `Deprecated: use "${field}" instead. If this and "${field}" are both given, only "${field}" is used.`;

const USERNAME: FieldSchemas = { username: { type: 'string', description: 'Name of the user (case-insensitive).' } };
const PASSWORD: FieldSchemas = { password: { type: 'string', description: 'Password of the user.', sensitive: true } };

/** Reads a user, filling the token fields from the deprecated ones as Vault does for old entries. */
async function readUser(storage: LogicalStorage, name: string): Promise<UserEntry | undefined> {
  const user = await getJson<UserEntry>(storage, userKey(name));
  if (!user) return undefined;
  const filled: UserEntry = { ...emptyTokenParams(), ...user };
  if (filled.token_ttl === 0 && (filled.ttl ?? 0) > 0) filled.token_ttl = filled.ttl!;
  if (filled.token_max_ttl === 0 && (filled.max_ttl ?? 0) > 0) filled.token_max_ttl = filled.max_ttl!;
  if (filled.token_policies.length === 0 && filled.policies?.length) filled.token_policies = filled.policies;
  if (filled.token_bound_cidrs.length === 0 && filled.bound_cidrs?.length) filled.token_bound_cidrs = filled.bound_cidrs;
  return filled;
}

/** Drops the deprecated fields that are not set, so the entry reads back as Vault's. */
function compact(user: UserEntry): UserEntry {
  const out = { ...user };
  if (!out.policies?.length) delete out.policies;
  if (!out.ttl) delete out.ttl;
  if (!out.max_ttl) delete out.max_ttl;
  if (!out.bound_cidrs?.length) delete out.bound_cidrs;
  return out;
}

export function createUserpassBackend(): LogicalBackend {
  // Read-modify-writes of one user run one at a time.
  const locks = new KeyedLock();
  const withUser = <T>(req: LogicalRequest, name: string, work: () => Promise<T>) => locks.run(`${req.mountPoint}${name.toLowerCase()}`, work);

  const requirePassword = (f: FieldData): string => {
    const password = f.get<string>('password');
    if (password === '') throw badRequest('missing password');
    return password;
  };

  const writeUser = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('username').toLowerCase();
    return withUser(req, name, async () => {
      const existing = await readUser(req.storage, name);
      if (!existing && !f.get<string>('password')) throw badRequest('missing password');
      const user: UserEntry = existing ?? emptyTokenParams();
      parseTokenFields(user, f);
      const legacyCidrs = f.getOk<string[]>('bound_cidrs');
      if (legacyCidrs !== undefined && !validCidrList(legacyCidrs, true)) throw badRequest("'bound_cidrs' must be a list of IP addresses or CIDR blocks");
      user.policies = upgradeValue(f, 'policies', 'token_policies', user, user.policies);
      user.ttl = upgradeValue(f, 'ttl', 'token_ttl', user, user.ttl);
      user.max_ttl = upgradeValue(f, 'max_ttl', 'token_max_ttl', user, user.max_ttl);
      user.bound_cidrs = upgradeValue(f, 'bound_cidrs', 'token_bound_cidrs', user, user.bound_cidrs);
      // Every field is checked before the (slow) hash and the one write.
      if (f.has('password')) user.password_hash = await hashPassword(requirePassword(f), req.randomBytes);
      await putJson(req.storage, userKey(name), compact(user));
      return NO_CONTENT;
    });
  };

  const readUserData = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const user = await readUser(req.storage, f.get<string>('username'));
    if (!user) throw notFound();
    const data = tokenData(user);
    if (user.ttl) data.ttl = user.ttl;
    if (user.max_ttl) data.max_ttl = user.max_ttl;
    if (user.policies?.length) data.policies = data.token_policies;
    if (user.bound_cidrs?.length) data.bound_cidrs = user.bound_cidrs;
    return { data };
  };

  const updatePassword = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('username').toLowerCase();
    return withUser(req, name, async () => {
      const user = await readUser(req.storage, name);
      if (!user) throw badRequest('username does not exist');
      user.password_hash = await hashPassword(requirePassword(f), req.randomBytes);
      await putJson(req.storage, userKey(name), compact(user));
      return NO_CONTENT;
    });
  };

  const updatePolicies = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('username').toLowerCase();
    return withUser(req, name, async () => {
      const user = await readUser(req.storage, name);
      if (!user) throw badRequest('username does not exist');
      const tokenPolicies = f.getOk<string[]>('token_policies');
      const legacy = f.getOk<string[]>('policies');
      if (tokenPolicies === undefined) {
        if (legacy !== undefined) user.token_policies = user.policies = legacy;
      } else {
        user.token_policies = tokenPolicies;
        user.policies = legacy !== undefined ? tokenPolicies : undefined;
      }
      await putJson(req.storage, userKey(name), compact(user));
      return NO_CONTENT;
    });
  };

  const login = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('username').toLowerCase();
    const password = f.get<string>('password');
    if (password === '') throw badRequest('missing password');
    const user = await readUser(req.storage, name);
    // An unknown user costs the same scrypt run as a wrong password, and gets the same answer.
    const matches = user?.password_hash ? await verifyPassword(password, user.password_hash) : (await verifyPassword(password, await dummyHash()), false);
    if (!user || !matches) throw badRequest(INVALID_LOGIN);
    if (user.token_bound_cidrs.length > 0 && !addressAllowed(req.remoteAddress, user.token_bound_cidrs)) throw permissionDenied();
    return { login: { ...loginAuth(user, { username: name }, name), aliasName: name } };
  };

  const userFields: FieldSchemas = {
    ...USERNAME,
    ...PASSWORD,
    policies: { type: 'comma-string-slice', description: deprecated('token_policies') },
    ttl: { type: 'duration', description: deprecated('token_ttl') },
    max_ttl: { type: 'duration', description: deprecated('token_max_ttl') },
    bound_cidrs: { type: 'comma-string-slice', description: deprecated('token_bound_cidrs') },
    ...TOKEN_FIELDS,
  };

  const paths: PathDeclaration<LogicalRequest>[] = [
    {
      pattern: 'users/?',
      synopsis: 'List the users.',
      operations: {
        list: {
          summary: 'List users.',
          handler: async (req) => {
            const keys = await req.storage.list('user/');
            if (keys.length === 0) throw notFound();
            return { data: { keys } };
          },
        },
      },
    },
    {
      pattern: `users/${genericName('username')}/password`,
      fields: { ...USERNAME, ...PASSWORD },
      synopsis: "Reset a user's password.",
      operations: { update: { summary: "Reset a user's password.", handler: updatePassword } },
    },
    {
      pattern: `users/${genericName('username')}/policies`,
      fields: {
        ...USERNAME,
        policies: { type: 'comma-string-slice', description: deprecated('token_policies') },
        token_policies: { type: 'comma-string-slice', description: 'Policies of the tokens this user gets.' },
      },
      synopsis: 'Update the policies of a user.',
      operations: { update: { summary: "Update a user's policies.", handler: updatePolicies } },
    },
    {
      pattern: `users/${genericName('username')}`,
      fields: userFields,
      synopsis: 'Manage the users allowed to log in.',
      description: 'Creates, reads, updates and deletes users. A new user needs a password; an update changes only the fields it gives. Deleting a user does not revoke the tokens it already got.',
      existenceCheck: async (req, f) => (await readUser(req.storage, f.get<string>('username'))) !== undefined,
      operations: {
        read: { summary: 'Read a user.', handler: readUserData },
        // One handler for both: it finds out itself whether the user exists (create needs a password).
        update: { summary: 'Create or update a user.', handler: writeUser },
        delete: {
          summary: 'Delete a user.',
          handler: async (req, f) => {
            const name = f.get<string>('username');
            await withUser(req, name, () => req.storage.delete(userKey(name)));
            return NO_CONTENT;
          },
        },
      },
    },
    {
      pattern: `login/${genericName('username')}`,
      unauthenticated: true,
      fields: { ...USERNAME, ...PASSWORD },
      synopsis: 'Log in with a username and password.',
      description: 'Answers a token with the user\'s token settings. A wrong password and an unknown user get the same error in the same time.',
      operations: { update: { summary: 'Log in.', handler: login } },
    },
  ];
  return defineBackend('userpass', paths);
}
