/**
 * Bad input on every declared route (issue 11), generated from the server's
 * own description of its routes: `GET sys/internal/specs/openapi` lists each
 * path, its methods and its request-body (or query) fields with their types.
 * For every path/method and every declared field the test sends the field as
 * null, as each wrong JSON type, as "", as a ~1 MB string, and bodies with
 * unknown fields, `__proto__` / `constructor` keys, duplicate keys and
 * non-object bodies, with path parameters naming the seeded objects and fresh
 * names. It asserts:
 *   - never a 5xx;
 *   - every 4xx body is Vault's `{"errors": [...]}`, and no message repeats a
 *     value the client sent (except where Vault's own text quotes a
 *     non-secret value, see QUOTED_BY_VAULT: then only briefly);
 *   - nothing a client can see changed after a request answered 4xx (a
 *     snapshot of mounts, policies, kv v1 / kv v2 / cubbyhole secrets, transit
 *     keys, token accessors, rotation config and quorum operations is taken
 *     after each batch; when it changed, the seeded state is restored and the
 *     batch's refused requests are replayed, together and then one by one, to
 *     pin a change on the refused request that made it);
 *   - a field sent as null is answered as if absent, and a successful answer
 *     carries Vault's warning naming an unknown field;
 *   - `__proto__` / `constructor` bodies polluted nothing: afterwards the
 *     server still refuses bodies that would only pass with inherited fields.
 * Paths the document does not list (engines not yet declared) are not sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { TestServer } from './helpers/server.ts';

// ---------------------------------------------------------------------------
// A raw HTTP client: exact body text (duplicate keys, `__proto__`), any
// method, and an optional source address.

interface Reply {
  status: number;
  body: any;
}

interface RawRequest {
  method: string;
  /** Below /v1/, with its query string if any. */
  path: string;
  body?: string;
  token?: string;
  headers?: Record<string, string>;
  /** Source address of the connection (127.0.0.0/8). */
  localAddress?: string;
}

class RawClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(
    private readonly port: number,
    private readonly token: string,
  ) {}

  send(r: RawRequest): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const token = r.token ?? this.token;
      const headers: Record<string, string | number> = { ...(token ? { 'X-Vault-Token': token } : {}), ...r.headers };
      const payload = r.body === undefined ? undefined : Buffer.from(r.body);
      if (payload) {
        headers['Content-Type'] ??= r.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: r.method,
          path: `/v1/${r.path}`,
          headers,
          ...(r.localAddress ? { agent: false, localAddress: r.localAddress } : { agent: this.agent }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              // not JSON: kept as text (and reported if it is an error answer)
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string) {
    return this.send({ method: 'GET', path });
  }
  list(path: string) {
    return this.send({ method: 'GET', path: `${path}?list=true` });
  }
  post(path: string, body: unknown = {}) {
    return this.send({ method: 'POST', path, body: JSON.stringify(body) });
  }
  delete(path: string, body?: unknown) {
    return this.send({ method: 'DELETE', path, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  close() {
    this.agent.destroy();
  }
}

/** JSON object text from entries, keeping duplicate keys and `__proto__` as written. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** A value whose JSON keeps an own `__proto__` / `constructor` key (JSON.parse defines them as plain keys). */
const hostile = (text: string): unknown => JSON.parse(text);

// ---------------------------------------------------------------------------
// Bad values by declared type. Every string long enough to be recognised is a
// "marker": no error message may contain it.

const HUGE = `fzhuge-${'0123456789abcdef'.repeat(65536)}`; // ~1 MiB
const HUGE_MARKER = HUGE.slice(0, 40);
/** 128 characters from inside HUGE: an answer holding them handed a good part of the 1 MiB value back. */
const HUGE_RUN = '0123456789abcdef'.repeat(8);
const LONG_QUERY = `fzlong-${'0123456789abcdef'.repeat(512)}`; // 8 KiB: a query string stays under the header limit
const PROTO_BODY_VALUE = { polluted: true, type: 'kv', policy: 'path "*" { capabilities = ["sudo"] }', policies: ['root'], paths: ['x'] };

interface BadValue {
  label: string;
  value: unknown;
}

const WRONG: Record<string, BadValue[]> = {
  string: [
    { label: 'number', value: 918273645 },
    { label: 'boolean', value: true },
    { label: 'array', value: ['fzArrayItem'] },
    { label: 'object', value: { fzKey: 'fzObjectValue' } },
  ],
  integer: [
    { label: 'string', value: 'fzNotAnInteger' },
    { label: 'boolean', value: true },
    { label: 'float', value: 1.5 },
    { label: 'negative', value: -1 },
    { label: 'too big', value: 1e300 },
    { label: 'unsafe integer', value: 9007199254740993 },
    { label: 'array', value: [7] },
    { label: 'object', value: { fzKey: 'fzObjectValue' } },
  ],
  number: [
    { label: 'string', value: 'fzNotANumber' },
    { label: 'boolean', value: true },
    { label: 'array', value: [7] },
    { label: 'object', value: { fzKey: 'fzObjectValue' } },
  ],
  boolean: [
    { label: 'string', value: 'fzNotABoolean' },
    { label: 'number', value: 42 },
    { label: 'array', value: [true] },
    { label: 'object', value: { fzKey: 'fzObjectValue' } },
  ],
  array: [
    { label: 'string', value: 'fzNotAnArray' },
    { label: 'number', value: 918273645 },
    { label: 'boolean', value: true },
    { label: 'object', value: { fzKey: 'fzObjectValue' } },
    { label: 'array of objects', value: [{ fzKey: 'fzObjectValue' }] },
    { label: 'array with null', value: [null] },
  ],
  object: [
    { label: 'string', value: 'fzNotAnObject' },
    { label: 'number', value: 918273645 },
    { label: 'boolean', value: true },
    { label: 'array', value: ['fzArrayItem'] },
    { label: 'nested __proto__', value: hostile('{"__proto__": {"polluted": true, "fzNested": "fzNestedValue"}}') },
    { label: 'nested constructor', value: hostile('{"constructor": {"prototype": {"polluted": true}}}') },
  ],
};

/**
 * Fields whose value Vault's own error quotes, and that are no secrets: the
 * mount type ("plugin not found in the catalog: <type>") and the keys and
 * labels of a policy document in its parse error. Their errors may quote
 * the value, but only briefly: never a run of the 1 MiB string.
 */
const QUOTED_BY_VAULT: { template: RegExp; field: RegExp }[] = [
  { template: /^\/sys\/(mounts|auth|audit)\/\{path\}$/, field: /^type$/ },
  { template: /^\/sys\/(policies\/acl|policy)\/\{name\}$/, field: /^(policy|rules)$/ },
  // Transit names a bad key type or algorithm as Vault does ("unknown key type X", "unsupported algorithm X").
  { template: /^\/transit\//, field: /^(type|algorithm|hash_algorithm|format|source|salt_length|marshaling_algorithm|signature_algorithm)$/ },
];

const quotedByVault = (template: string, field: string) => QUOTED_BY_VAULT.some((q) => q.template.test(template) && q.field.test(field));

/** The strings of a sent value that an error must not repeat. */
function markersOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value === HUGE) out.push(HUGE_MARKER);
    else if (value.startsWith('fzlong-')) out.push(value.slice(0, 40));
    else if (value.startsWith('fz')) out.push(value);
  } else if (typeof value === 'number' && String(value).length >= 5) {
    out.push(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) markersOf(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) markersOf(v, out);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The routes, from the OpenAPI document.

interface Operation {
  template: string; // "/sys/mounts/{path}"
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  params: string[];
  /** Body fields (POST/PATCH) or query fields (GET). */
  fields: Record<string, { type: string }>;
  arbitrary: boolean;
  /** Whether a success may carry Vault's unknown-field warning (false for arbitrary-input paths). */
  warnsUnknown: boolean;
  unauthenticated: boolean;
  sudo: boolean;
}

function operationsOf(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [template, item] of Object.entries<any>(doc.paths)) {
    // An arbitrary-input path (kv) takes any field, on every operation, without a warning.
    const arbitraryPath = ['post', 'patch'].some((m) => (Object.values(item[m]?.requestBody?.content ?? {})[0] as any)?.schema?.additionalProperties === true);
    const params = ((item.parameters ?? []) as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name);
    for (const method of ['get', 'post', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      let fields: Record<string, { type: string }> = {};
      let arbitrary = false;
      if (method === 'post' || method === 'patch') {
        const content = op.requestBody?.content ?? {};
        const schema = (Object.values(content)[0] as any)?.schema ?? {};
        fields = schema.properties ?? {};
        arbitrary = schema.additionalProperties === true;
      } else if (method === 'get') {
        for (const p of (op.parameters ?? []) as { name: string; in: string; schema: { type: string } }[]) {
          if (p.in === 'query' && p.name !== 'list') fields[p.name] = p.schema;
        }
      }
      out.push({
        template,
        method: method.toUpperCase() as Operation['method'],
        params,
        fields,
        arbitrary,
        warnsUnknown: !arbitraryPath,
        unauthenticated: item['x-vault-unauthenticated'] === true,
        sudo: item['x-vault-sudo'] === true,
      });
    }
  }
  return out;
}

/**
 * Not sent: bad input succeeds on them (they take no fields, or a null or
 * weakly decoded one is as good as a real one), and their success would
 * wreck the run. sys/seal seals the server; sys/step-down gives up the
 * active role; sys/rotate replaces the barrier key; sys/remount moves a mount
 * and its data away from the path the rest of the run uses; revoke-self
 * would revoke the root token every request here carries.
 */
const SKIPPED: { method: string; template: RegExp }[] = [
  { method: 'POST', template: /^\/sys\/seal$/ },
  { method: 'POST', template: /^\/sys\/step-down$/ },
  { method: 'POST', template: /^\/sys\/rotate$/ },
  { method: 'POST', template: /^\/sys\/remount$/ },
  { method: 'POST', template: /^\/auth\/token\/revoke-self$/ },
];

/** Quorum operations: one attempt at a time, starts limited per client address. Sent one by one, each attempt cancelled after. */
const QUORUM = /^\/sys\/(rekey|rekey-recovery-key|generate-root)\//;

// ---------------------------------------------------------------------------
// Seeded state.

const POLICY_TEXT = 'path "kv1/*" {\n  capabilities = ["read", "list"]\n}\n';
const SEED_MOUNTS: Record<string, Record<string, unknown>> = {
  'kv1/': { type: 'kv', description: 'fuzz kv v1' },
  'kv2/': { type: 'kv', options: { version: '2' }, description: 'fuzz kv v2' },
  'transit/': { type: 'transit', description: 'fuzz transit' },
};
const KV1_SECRETS: Record<string, Record<string, unknown>> = { 'fz-seed': { password: 'seed-value', n: 1 }, 'fz-dir/fz-nested': { a: 'b' } };
const CUBBY_SECRETS: Record<string, Record<string, unknown>> = { 'fz-seed': { cubby: 'seed' } };
const KV2_SECRETS: Record<string, Record<string, unknown>> = { 'fz-seed': { password: 'v2-seed' } };
const TRANSIT_KEY = 'fz-key';
const SEED_POLICY = 'fz-policy';

interface Seeds {
  tokenAccessor: string;
  token: string;
  ciphertext: string;
}

/** The path parameter values that name seeded objects, by the route's mount and the parameter's name. */
function seededValues(template: string, param: string, mountType: string | undefined, seeds: Seeds): string[] {
  if (/^\/sys\/(mounts\/|internal\/ui\/mounts\/)/.test(template)) return ['kv1', 'kv2', 'transit'];
  if (/^\/sys\/(policies\/acl|policy)\//.test(template)) return [SEED_POLICY, 'default', 'root'];
  if (template.startsWith('/sys/')) return [];
  switch (mountType) {
    case 'kv-v1':
      return param === 'path' ? ['fz-seed', 'fz-dir/fz-nested'] : [];
    case 'cubbyhole':
    case 'kv-v2':
      return param === 'path' ? ['fz-seed'] : [];
    case 'transit':
      return param === 'name' ? [TRANSIT_KEY] : [];
    case 'token':
      return param === 'accessor' ? [seeds.tokenAccessor] : [];
    default:
      return [];
  }
}

/** Valid values for a route's other fields, so that one bad field is what the request is about. */
function baseBody(template: string, seeds: Seeds): [string, unknown][] {
  const tail = template.replace(/^\/[^/]+\//, '');
  if (/^\/sys\/mounts\/\{[^}]+\}$/.test(template)) return [['type', 'kv']];
  if (/^\/sys\/(policies\/acl|policy)\/\{/.test(template)) return [['policy', POLICY_TEXT]];
  if (template === '/sys/capabilities-self') return [['paths', ['kv1/fz-seed']]];
  if (template === '/sys/capabilities') return [['token', seeds.token], ['paths', ['kv1/fz-seed']]];
  if (/^\/sys\/(rekey|rekey-recovery-key)\/init$/.test(template)) return [['secret_shares', 1], ['secret_threshold', 1]];
  if (template === '/sys/rotate/config') return [['max_operations', 3865470566], ['interval', '0']];
  if (/^encrypt\//.test(tail)) return [['plaintext', Buffer.from('fuzz').toString('base64')]];
  if (/^decrypt\//.test(tail)) return [['ciphertext', seeds.ciphertext]];
  if (/^data\//.test(tail) && template.startsWith('/kv2/')) return [['data', { a: 'b' }]];
  if (/^\/(kv1|cubbyhole)\//.test(template)) return [['fz-value', 'x']];
  return [];
}

// ---------------------------------------------------------------------------
// Cases.

interface Case {
  group: string;
  label: string;
  method: string;
  path: string;
  body?: string;
  /** Strings no error message may contain. */
  markers: string[];
  /** A success with a body must warn about this field. */
  unknownField?: string;
  /** For the null-as-absent comparison: [group key, 'null' | 'absent']. */
  nullPair?: [string, 'null' | 'absent'];
  serial: boolean;
  /** Sent without a token, or with the seeded token (no sudo anywhere): must be a 403 whatever the body holds. */
  caller?: 'anonymous' | 'limited';
  reply?: Reply;
}

const isWrite = (method: string) => method !== 'GET';
const isSuccess = (r: Reply) => r.status >= 200 && r.status < 300;

const describeCase = (c: Case) =>
  `${c.method} /v1/${c.path.length > 160 ? `${c.path.slice(0, 160)}...` : c.path}${c.body === undefined ? '' : ` body ${c.body.length > 200 ? `${c.body.slice(0, 200)}... (${c.body.length} bytes)` : c.body}`} [${c.label}]`;
const describeReply = (r: Reply | undefined) => {
  const text = r === undefined ? 'no answer' : `${r.status} ${JSON.stringify(r.body) ?? ''}`;
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
};

let freshCounter = 0;
const fresh = () => `fz-fresh-${++freshCounter}`;

function casesFor(op: Operation, mountType: string | undefined, seeds: Seeds): Case[] {
  const fills: (() => Record<string, string>)[] = [];
  // One fill per seeded value (all parameters naming seeded objects) and one of fresh names (new per case).
  const seeded = op.params.map((p) => seededValues(op.template, p, mountType, seeds));
  const rows = Math.max(0, ...seeded.map((v) => v.length));
  for (let i = 0; i < rows; i++) {
    const values = Object.fromEntries(op.params.map((p, j) => [p, seeded[j][i] ?? seeded[j][0] ?? 'fz-none']));
    fills.push(() => values);
  }
  fills.push(() => Object.fromEntries(op.params.map((p) => [p, fresh()])));

  const serial = QUORUM.test(op.template);
  const out: Case[] = [];
  for (const [fillIndex, fill] of fills.entries()) {
    const group = `${op.method} ${op.template} #${fillIndex}`;
    const pathOf = () => {
      const values = fill();
      return op.template.slice(1).replace(/\{(\w+)\}/g, (_, name: string) => values[name]);
    };
    const push = (c: Omit<Case, 'group' | 'method' | 'path' | 'serial'> & { path?: string }) =>
      out.push({ group, method: op.method, path: c.path ?? pathOf(), serial, ...c });

    if (fillIndex === 0) {
      // Who may not call the path learns nothing from its bad input: the ACL answers first.
      const field = Object.keys(op.fields)[0];
      const bad = op.method === 'POST' || op.method === 'PATCH' ? { body: objectText(field ? [[field, { fzKey: 'fzObjectValue' }]] : [['fzUnknownField', 'fzUnknownValue']]) } : { path: `${pathOf()}?fzUnknownField=fzUnknownValue` };
      // sys/wrapping/unwrap takes its token in the body: not a plain authenticated path.
      if (!op.unauthenticated && !op.template.startsWith('/sys/wrapping/')) push({ label: 'no token', caller: 'anonymous', markers: ['fzObjectValue', 'fzUnknownValue'], ...bad });
      if (op.sudo) push({ label: 'token without sudo', caller: 'limited', markers: ['fzObjectValue', 'fzUnknownValue'], ...bad });
    }
    if (op.method === 'POST' || op.method === 'PATCH') {
      const base = baseBody(op.template, seeds).filter(([k]) => k in op.fields || op.arbitrary);
      const withField = (name: string, value: unknown): [string, unknown][] => [...base.filter(([k]) => k !== name), [name, value]];
      const names = Object.keys(op.fields);
      // Likely successes first, so that fewer batches mix successes with refusals.
      push({ label: 'base body', body: objectText(base), markers: [] });
      for (const name of names) {
        const key = `${group} ${name}`;
        push({ label: `${name} absent`, body: objectText(base.filter(([k]) => k !== name)), markers: [], nullPair: [key, 'absent'] });
        push({ label: `${name} null`, body: objectText(withField(name, null)), markers: [], nullPair: [key, 'null'] });
      }
      push({ label: 'unknown field', body: objectText([...base, ['fzUnknownField', 'fzUnknownValue']]), markers: ['fzUnknownValue'], unknownField: op.warnsUnknown ? 'fzUnknownField' : undefined });
      push({ label: '__proto__ key', body: objectText([...base, ['__proto__', PROTO_BODY_VALUE]]), markers: [] });
      push({ label: 'constructor key', body: objectText([...base, ['constructor', { prototype: { polluted: true } }]]), markers: [] });
      push({ label: 'duplicate keys', body: objectText([...base, ['a', 1], ['a', 2]]), markers: [] });
      if (names.length > 0) {
        // The last of duplicate keys wins (as in Go's encoding/json): the first is never looked at.
        const first = names[0];
        const second = quotedByVault(op.template, first) ? [] : ['fzDuplicateSecond'];
        push({ label: `${first} duplicated`, body: objectText([...withField(first, 'fzDuplicateFirst'), [first, 'fzDuplicateSecond']]), markers: ['fzDuplicateFirst', ...second] });
      }
      // Wrong types are refused while decoding, before the target matters: further seeded targets get one per field.
      const fullMatrix = fillIndex === 0 || fillIndex === fills.length - 1;
      for (const name of names) {
        const type = op.fields[name].type;
        const quoted = quotedByVault(op.template, name);
        for (const bad of (WRONG[type] ?? WRONG.string).slice(0, fullMatrix ? undefined : 1)) {
          push({ label: `${name} as ${bad.label}`, body: objectText(withField(name, bad.value)), markers: quoted ? [] : markersOf(bad.value) });
        }
        push({ label: `${name} empty string`, body: objectText(withField(name, '')), markers: [] });
        push({ label: `${name} 1 MiB string`, body: objectText(withField(name, HUGE)), markers: [quoted ? HUGE_RUN : HUGE_MARKER] });
      }
      for (const text of ['[]', '[{"a":1}]', '"fzBodyString"', '918273645', 'true', 'null', '{"unterminated": ', 'fzNotJson=1']) {
        push({ label: `body ${text}`, body: text, markers: (/fz[A-Za-z]+|\d{5,}/.exec(text) ?? []).slice(0, 1) });
      }
    } else {
      const query = (pairs: [string, string][]) => {
        const base = pathOf();
        return pairs.length === 0 ? base : `${base}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
      };
      push({ label: 'no parameters', path: query([]), markers: [] });
      push({ label: 'unknown parameter', path: query([['fzUnknownField', 'fzUnknownValue']]), markers: ['fzUnknownValue'], unknownField: op.warnsUnknown ? 'fzUnknownField' : undefined });
      push({ label: '__proto__ parameter', path: query([['__proto__', 'fzProtoValue']]), markers: ['fzProtoValue'] });
      push({ label: 'constructor parameter', path: query([['constructor', 'fzConstructorValue']]), markers: ['fzConstructorValue'] });
      push({ label: 'duplicate parameter', path: query([['a', '1'], ['a', '2']]), markers: [] });
      for (const name of Object.keys(op.fields)) {
        push({ label: `${name}=`, path: query([[name, '']]), markers: [] });
        push({ label: `${name} bad text`, path: query([[name, 'fzBadQueryValue']]), markers: ['fzBadQueryValue'] });
        push({ label: `${name} 8 KiB`, path: query([[name, LONG_QUERY]]), markers: [LONG_QUERY.slice(0, 40)] });
      }
      if (op.method === 'GET') push({ label: 'as LIST', path: `${query([['fzUnknownField', 'fzUnknownValue']])}&list=true`, markers: ['fzUnknownValue'] });
      if (op.method === 'DELETE') {
        // Vault reads DELETE parameters from the query; a body must still do no harm.
        push({ label: 'DELETE with __proto__ body', body: '{"__proto__": {"polluted": true}}', markers: [] });
        push({ label: 'DELETE with array body', body: '[]', markers: [] });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Snapshot of what a client can see, and restoring the seeded state.

async function listAll(c: RawClient, prefix: string): Promise<string[]> {
  const res = await c.list(prefix);
  // 404: nothing there (or no such mount: a missing seeded mount shows in the mount table).
  if (res.status === 404) return [];
  assert.equal(res.status, 200, `LIST ${prefix}: ${describeReply(res)}`);
  const out: string[] = [];
  for (const key of res.body.data.keys as string[]) {
    if (key.endsWith('/')) out.push(...(await listAll(c, `${prefix}${key}`)).map((k) => `${key}${k}`));
    else out.push(key);
  }
  return out.sort();
}

async function readMap(c: RawClient, prefix: string, keys: string[], suffix = ''): Promise<Record<string, unknown>> {
  const entries = await Promise.all(keys.map(async (k) => [k, (await c.get(`${prefix}${k}${suffix}`)).body?.data] as const));
  return Object.fromEntries(entries);
}

const present = (mounts: Record<string, unknown>, path: string) => Object.hasOwn(mounts, path);

const stats = { snapshots: 0, snapshotMs: 0, restores: 0, restoreMs: 0 };
async function snapshot(c: RawClient): Promise<Record<string, unknown>> {
  stats.snapshots++;
  const t0 = Date.now();
  try {
    return await snapshotInner(c);
  } finally {
    stats.snapshotMs += Date.now() - t0;
  }
}
async function snapshotInner(c: RawClient): Promise<Record<string, unknown>> {
  const keysOf = (r: Reply) => (r.status === 404 ? [] : (r.body.data.keys as string[]).sort());
  const [mounts, auth, policyNames, kv1Keys, cubbyKeys, kv2Keys, kv2Config, transitKeys, accessors, rotation, rekey, rekeyRecovery, generateRoot, seal] = await Promise.all([
    c.get('sys/mounts').then((r) => r.body.data),
    c.get('sys/auth').then((r) => r.body.data),
    c.list('sys/policies/acl').then(keysOf),
    listAll(c, 'kv1/'),
    listAll(c, 'cubbyhole/'),
    listAll(c, 'kv2/metadata/'),
    c.get('kv2/config').then((r) => r.body?.data),
    c.list('transit/keys').then(keysOf),
    c.list('auth/token/accessors').then(keysOf),
    c.get('sys/rotate/config').then((r) => r.body.data),
    c.get('sys/rekey/init').then((r) => r.body?.started ?? r.status),
    c.get('sys/rekey-recovery-key/init').then((r) => r.body?.started ?? r.status),
    c.get('sys/generate-root/attempt').then((r) => r.body?.started ?? r.status),
    c.get('sys/seal-status').then((r) => r.body.sealed),
  ]);
  const [policies, kv1, cubbyhole, kv2, transit] = await Promise.all([
    readMap(c, 'sys/policies/acl/', policyNames),
    readMap(c, 'kv1/', kv1Keys),
    readMap(c, 'cubbyhole/', cubbyKeys),
    readMap(c, 'kv2/metadata/', kv2Keys),
    readMap(c, 'transit/keys/', transitKeys),
  ]);
  return { mounts, auth, policies, kv1, cubbyhole, kv2, kv2Config, transit, accessors, rotation, rekey, rekeyRecovery, generateRoot, seal };
}

/** Where two snapshots differ, as `part.key.key: before -> after` lines (values cut short). */
function snapshotDiff(a: unknown, b: unknown, at = ''): string {
  if (isDeepStrictEqual(a, b)) return '';
  const objects = a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
  if (objects) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.map((k) => snapshotDiff((a as any)[k], (b as any)[k], at ? `${at}.${k}` : k)).filter(Boolean).join('\n');
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 200));
  return `${at}: ${show(a)} -> ${show(b)}`;
}

let addressCounter = 0;
/** A fresh loopback source address: quorum starts and cancels are limited per client address. */
const nextAddress = () => {
  addressCounter++;
  return `127.${40 + Math.floor(addressCounter / 62500)}.${Math.floor(addressCounter / 250) % 250}.${(addressCounter % 250) + 1}`;
};

/** Cancels any rekey or generate-root attempt in progress (their cancel needs the attempt's nonce). */
async function cancelQuorum(c: RawClient): Promise<void> {
  for (const path of ['sys/rekey/init', 'sys/rekey-recovery-key/init', 'sys/generate-root/attempt']) {
    const status = await c.get(path);
    if (status.status === 200 && status.body.started) {
      const res = await c.send({ method: 'DELETE', path, body: JSON.stringify({ nonce: status.body.nonce }), localAddress: nextAddress() });
      assert.equal(res.status, 204, `cancel ${path}: ${describeReply(res)}`);
    }
  }
}

/**
 * A seeded object as it would be seeded again: creation times dropped (kv v2
 * created_time / updated_time, transit's per-version times), so re-created seeds
 * compare equal and are not re-created on every restore.
 */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'created_time' && k !== 'updated_time')
      .map(([k, v]) => [k, k === 'keys' && v && typeof v === 'object' ? Object.keys(v).sort() : timeless(v)]),
  );
}

class World {
  seeds!: Seeds;
  initial!: Record<string, any>;
  private readonly initialMounts = new Set<string>();

  constructor(private readonly c: RawClient) {}

  private async ok(res: Promise<Reply>, what: string): Promise<Reply> {
    const r = await res;
    assert.ok(isSuccess(r), `${what}: ${describeReply(r)}`);
    return r;
  }

  private async mount(path: string): Promise<void> {
    await this.ok(this.c.post(`sys/mounts/${path}`, SEED_MOUNTS[path]), `mount ${path}`);
  }

  private async seedKv1(): Promise<void> {
    for (const [k, v] of Object.entries(KV1_SECRETS)) await this.ok(this.c.post(`kv1/${k}`, v), `seed kv1/${k}`);
  }

  private async seedKv2(): Promise<void> {
    for (const [k, v] of Object.entries(KV2_SECRETS)) await this.ok(this.c.post(`kv2/data/${k}`, { data: v }), `seed kv2/${k}`);
  }

  private async seedTransit(): Promise<void> {
    await this.ok(this.c.post(`transit/keys/${TRANSIT_KEY}`, {}), 'seed transit key');
    const enc = await this.ok(this.c.post(`transit/encrypt/${TRANSIT_KEY}`, { plaintext: Buffer.from('fuzz').toString('base64') }), 'seed ciphertext');
    this.seeds.ciphertext = enc.body.data.ciphertext;
  }

  private async seedToken(): Promise<void> {
    const res = await this.ok(this.c.post('auth/token/create', { policies: [SEED_POLICY], ttl: '2h' }), 'seed token');
    this.seeds.token = res.body.auth.client_token;
    this.seeds.tokenAccessor = res.body.auth.accessor;
  }

  async seed(): Promise<void> {
    this.seeds = { token: '', tokenAccessor: '', ciphertext: '' };
    for (const path of Object.keys(SEED_MOUNTS)) await this.mount(path);
    await this.ok(this.c.post(`sys/policies/acl/${SEED_POLICY}`, { policy: POLICY_TEXT }), 'seed policy');
    await this.seedKv1();
    for (const [k, v] of Object.entries(CUBBY_SECRETS)) await this.ok(this.c.post(`cubbyhole/${k}`, v), `seed cubbyhole/${k}`);
    await this.seedKv2();
    await this.seedTransit();
    await this.seedToken();
    this.initial = await snapshot(this.c);
    for (const path of Object.keys(this.initial.mounts)) this.initialMounts.add(path);
  }

  /**
   * Puts the seeded state back after requests that succeeded: removes what
   * they created, re-creates what they changed or deleted. Returns the new
   * baseline snapshot.
   */
  async restore(current?: Record<string, any>): Promise<Record<string, any>> {
    stats.restores++;
    const t0 = Date.now();
    try {
      return await this.restoreInner(current);
    } finally {
      stats.restoreMs += Date.now() - t0;
    }
  }
  private async restoreInner(current: Record<string, any> | undefined): Promise<Record<string, any>> {
    const c = this.c;
    const { initial } = this;
    let acted = false;
    if (current === undefined || current.rekey === true || current.rekeyRecovery === true || current.generateRoot === true) {
      await cancelQuorum(c);
      current = undefined;
    }
    let now = current ?? (await snapshot(c));
    const comparable = (m: any) => m && { ...m, uuid: undefined, accessor: undefined };
    for (const path of Object.keys(now.mounts as object)) {
      if (!this.initialMounts.has(path)) {
        await this.ok(c.delete(`sys/mounts/${path}`), `unmount ${path}`);
        acted = true;
      }
    }
    const remounted = new Set<string>();
    for (const path of Object.keys(SEED_MOUNTS)) {
      const was = initial.mounts[path];
      const is = (now.mounts as any)[path];
      if (is && isDeepStrictEqual(comparable(was), comparable(is))) continue;
      if (is) await this.ok(c.delete(`sys/mounts/${path}`), `unmount ${path}`);
      await this.mount(path);
      remounted.add(path);
    }
    if (remounted.has('kv1/')) await this.seedKv1();
    if (remounted.has('kv2/')) await this.seedKv2();
    if (remounted.has('transit/')) await this.seedTransit();
    if (acted || remounted.size > 0) now = await snapshot(c);

    const tasks: Promise<unknown>[] = [];
    for (const name of Object.keys(now.policies as object)) {
      if (!(name in initial.policies)) tasks.push(this.ok(c.delete(`sys/policies/acl/${name}`), `delete policy ${name}`));
    }
    for (const [name, data] of Object.entries<any>(initial.policies)) {
      if (name !== 'root' && !isDeepStrictEqual(data, (now.policies as any)[name])) {
        tasks.push(this.ok(c.post(`sys/policies/acl/${name}`, { policy: data.policy }), `restore policy ${name}`));
      }
    }
    for (const [mount, store] of [['kv1/', 'kv1'], ['cubbyhole/', 'cubbyhole']] as const) {
      for (const key of Object.keys(now[store] as object)) {
        if (!(key in initial[store])) tasks.push(this.ok(c.delete(`${mount}${key}`), `delete ${mount}${key}`));
      }
      for (const [key, data] of Object.entries<any>(initial[store])) {
        if (!isDeepStrictEqual(data, (now[store] as any)[key])) tasks.push(this.ok(c.post(`${mount}${key}`, data), `restore ${mount}${key}`));
      }
    }
    for (const key of Object.keys(now.kv2 as object)) {
      if (!(key in initial.kv2)) tasks.push(this.ok(c.delete(`kv2/metadata/${key}`), `delete kv2/${key}`));
    }
    if (!isDeepStrictEqual(initial.kv2Config, now.kv2Config)) {
      const { max_versions, cas_required, delete_version_after } = initial.kv2Config;
      tasks.push(this.ok(c.post('kv2/config', { max_versions, cas_required, delete_version_after }), 'restore kv2 config'));
    }
    const kv2Changed = Object.keys(initial.kv2).some((k) => !isDeepStrictEqual(timeless(initial.kv2[k]), timeless((now.kv2 as any)[k])));
    for (const key of Object.keys(now.transit as object)) {
      if (!(key in initial.transit)) tasks.push(this.deleteTransitKey(key));
    }
    const transitChanged = !isDeepStrictEqual(timeless(initial.transit[TRANSIT_KEY]), timeless((now.transit as any)[TRANSIT_KEY]));
    const tokenGone = !(now.accessors as string[]).includes(this.seeds.tokenAccessor);
    for (const accessor of now.accessors as string[]) {
      if (!initial.accessors.includes(accessor) && accessor !== this.seeds.tokenAccessor) {
        tasks.push(this.ok(c.post('auth/token/revoke-accessor', { accessor }), `revoke ${accessor}`));
      }
    }
    if (!isDeepStrictEqual(initial.rotation, now.rotation)) {
      const { max_operations, interval } = initial.rotation;
      tasks.push(this.ok(c.post('sys/rotate/config', { max_operations, interval }), 'restore rotation config'));
    }
    await Promise.all(tasks);
    if (kv2Changed) {
      for (const key of Object.keys(initial.kv2)) await this.ok(c.delete(`kv2/metadata/${key}`), `reset kv2/${key}`);
      await this.seedKv2();
    }
    if (transitChanged) {
      if ((now.transit as any)[TRANSIT_KEY]) await this.deleteTransitKey(TRANSIT_KEY);
      await this.seedTransit();
    }
    if (tokenGone) await this.seedToken();
    return tasks.length > 0 || kv2Changed || transitChanged || tokenGone ? snapshot(c) : now;
  }

  private async deleteTransitKey(name: string): Promise<void> {
    await this.ok(this.c.post(`transit/keys/${name}/config`, { deletion_allowed: true }), `allow deleting ${name}`);
    await this.ok(this.c.delete(`transit/keys/${name}`), `delete transit key ${name}`);
  }
}

// ---------------------------------------------------------------------------
// The run.

interface Findings {
  serverErrors: string[];
  badErrorBodies: string[];
  echoes: string[];
  stateChanges: string[];
  nullNotAbsent: string[];
  missingWarnings: string[];
  notForbidden: string[];
}

const BATCH = 16;

describe('bad input on every declared route', { timeout: 170_000 }, () => {
  let server: TestServer;
  let client: RawClient;
  let world: World;
  let doc: any;
  const findings: Findings = { serverErrors: [], badErrorBodies: [], echoes: [], stateChanges: [], nullNotAbsent: [], missingWarnings: [], notForbidden: [] };
  const operations: { op: Operation; mountType: string | undefined }[] = [];
  /** Every case sent, with its (last) answer; generated per route just before it runs, so base bodies name the current seeds. */
  const cases: Case[] = [];
  let sent = 0;

  const check = (c: Case, r: Reply) => {
    sent++;
    c.reply = r;
    if (r.status >= 500) findings.serverErrors.push(`${describeCase(c)} -> ${describeReply(r)}`);
    if (r.status >= 400) {
      const errors = r.body?.errors;
      const errorsBody = r.body && typeof r.body === 'object' && Object.keys(r.body).length === 1 && Array.isArray(errors) && errors.every((e: unknown) => typeof e === 'string');
      // Vault answers a batch in which every item failed with 400 and the envelope's batch_results, each item with its error.
      const results = r.body?.data?.batch_results;
      const failedBatch = r.status === 400 && 'request_id' in (r.body ?? {}) && Array.isArray(results) && results.length > 0 &&
        results.every((item: { error?: unknown }) => typeof item?.error === 'string' && item.error !== '');
      const shaped = errorsBody || failedBatch;
      if (!shaped) findings.badErrorBodies.push(`${describeCase(c)} -> ${describeReply(r)}`);
      const text = JSON.stringify(r.body ?? '');
      const echoed = c.markers.filter((m) => text.includes(m));
      if (echoed.length > 0) findings.echoes.push(`${describeCase(c)} -> ${describeReply(r)} (repeats ${echoed.join(', ')})`);
    }
    if (c.caller && !(r.status === 403 && isDeepStrictEqual(r.body, { errors: ['permission denied'] }))) {
      findings.notForbidden.push(`${describeCase(c)} as ${c.caller} caller -> ${describeReply(r)}`);
    }
    if (c.unknownField && r.status === 200 && r.body && typeof r.body === 'object' && 'request_id' in r.body) {
      const warnings: string[] = r.body.warnings ?? [];
      if (!warnings.some((w) => w.startsWith('Endpoint ignored these unrecognized parameters') && w.includes(c.unknownField!))) {
        findings.missingWarnings.push(`${describeCase(c)} -> ${describeReply(r)}`);
      }
    }
  };

  const run = async (c: Case): Promise<Reply> => {
    const token = c.caller === 'anonymous' ? '' : c.caller === 'limited' ? world.seeds.token : undefined;
    const r = await client.send({ method: c.method, path: c.path, body: c.body, token, localAddress: c.serial ? nextAddress() : undefined });
    check(c, r);
    return r;
  };

  before(async () => {
    server = await TestServer.startDev();
    client = new RawClient(server.port, 'root');
    world = new World(client);
    await world.seed();
    const res = await client.get('sys/internal/specs/openapi');
    assert.equal(res.status, 200);
    doc = res.body;

    const mounts = { ...(await client.get('sys/mounts')).body.data, ...Object.fromEntries(Object.entries((await client.get('sys/auth')).body.data).map(([k, v]) => [`auth/${k}`, v])) };
    const mountTypeOf = (template: string): string | undefined => {
      const path = template.slice(1);
      const mount = Object.keys(mounts).filter((m) => path.startsWith(m)).sort((a, b) => b.length - a.length)[0];
      if (!mount) return undefined;
      const entry = mounts[mount] as { type: string; options?: { version?: string } | null };
      return entry.type === 'kv' ? `kv-v${entry.options?.version ?? '1'}` : entry.type;
    };
    for (const op of operationsOf(doc)) {
      if (SKIPPED.some((sk) => sk.method === op.method && sk.template.test(op.template))) continue;
      // Only the system and token backends and the seeded mounts: the dev server's own secret/ etc. hold nothing seeded.
      if (!op.template.startsWith('/sys/') && !/^\/(kv1|kv2|transit|cubbyhole|auth\/token)\//.test(op.template)) continue;
      operations.push({ op, mountType: mountTypeOf(op.template) });
    }
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  it('sends every case, comparing what a client can see around each batch', async (t) => {
    const started = Date.now();
    let baseline = await snapshot(client);
    let groupCount = 0;

    /** Sends a batch: concurrently, or (quorum operations) one by one, cancelling each attempt a request started. */
    const send = async (batch: Case[]): Promise<Reply[]> => {
      if (!batch[0].serial) return Promise.all(batch.map(run));
      const replies: Reply[] = [];
      for (const c of batch) {
        const r = await run(c);
        if (isSuccess(r)) await cancelQuorum(client);
        replies.push(r);
      }
      return replies;
    };

    /**
     * Sends a batch and compares the snapshot with the baseline. Unchanged:
     * done (successes included: many change nothing visible). Changed: back
     * to the seeded state; then the refused cases are sent again, together
     * and, while the state still changes, each alone, so a change is pinned
     * on the one refused request that made it.
     */
    const settle = async (batch: Case[]): Promise<void> => {
      const replies = await send(batch);
      const now = await snapshot(client);
      if (isDeepStrictEqual(now, baseline)) return;
      const before = baseline;
      baseline = await world.restore(now);
      const refused = batch.filter((c, j) => !(isWrite(c.method) && isSuccess(replies[j])));
      if (refused.length === batch.length && batch.length === 1) {
        findings.stateChanges.push(`${describeCase(batch[0])} -> ${describeReply(replies[0])}\n${snapshotDiff(before, now)}`);
        return;
      }
      if (refused.length === batch.length) {
        for (const c of refused) await settle([c]);
      } else if (refused.length > 0) {
        await settle(refused);
      }
    };

    for (const { op, mountType } of operations) {
      const generated = casesFor(op, mountType, world.seeds);
      cases.push(...generated);
      const groups = new Map<string, Case[]>();
      for (const c of generated) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
      groupCount += groups.size;
      for (const group of groups.values()) {
        for (let i = 0; i < group.length; i += BATCH) await settle(group.slice(i, i + BATCH));
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // BAD_INPUT_DUMP=file writes every case and its answer, for reading what the run did.
    if (process.env.BAD_INPUT_DUMP) {
      fs.writeFileSync(process.env.BAD_INPUT_DUMP, cases.map((c) => `${describeCase(c)} -> ${describeReply(c.reply)}`).join('\n') + '\n');
    }
    t.diagnostic(`${cases.length} cases over ${groupCount} groups, ${sent} requests sent in ${seconds}s ${JSON.stringify(stats)}`);
    assert.ok(cases.length > 500, `only ${cases.length} cases generated`);
  });

  it('never answers 5xx', () => {
    assert.deepEqual(findings.serverErrors, [], findings.serverErrors.join('\n'));
  });

  it("answers every 4xx with Vault's {errors: [...]} body (a batch whose every item failed: batch_results with each item's error)", () => {
    assert.deepEqual(findings.badErrorBodies, [], findings.badErrorBodies.join('\n'));
  });

  it('never repeats a sent value in an error', () => {
    assert.deepEqual(findings.echoes, [], findings.echoes.join('\n'));
  });

  it('changes nothing a client can see when it refuses a request', () => {
    assert.deepEqual(findings.stateChanges, [], findings.stateChanges.join('\n\n'));
  });

  it('answers a caller without access 403 before looking at its bad input', () => {
    assert.deepEqual(findings.notForbidden, [], findings.notForbidden.join('\n'));
  });

  it('answers a field sent as null as if it were absent', () => {
    const pairs = new Map<string, { null?: Case; absent?: Case }>();
    for (const c of cases) {
      if (!c.nullPair) continue;
      const [key, kind] = c.nullPair;
      pairs.set(key, { ...pairs.get(key), [kind]: c });
    }
    for (const { null: n, absent: a } of pairs.values()) {
      if (!n?.reply || !a?.reply) continue;
      // Fresh-name cases target different objects; the status class is what must agree.
      if (Math.floor(n.reply.status / 100) !== Math.floor(a.reply.status / 100)) {
        findings.nullNotAbsent.push(`${describeCase(n)} -> ${describeReply(n.reply)}, but absent -> ${describeReply(a.reply)}`);
      }
    }
    assert.deepEqual(findings.nullNotAbsent, [], findings.nullNotAbsent.join('\n'));
  });

  it('warns about an unknown field whenever it answers with a body', () => {
    assert.deepEqual(findings.missingWarnings, [], findings.missingWarnings.join('\n'));
  });

  it('was not polluted by __proto__ or constructor keys, and still answers normally', async () => {
    assert.equal(server.exitCode, undefined, 'the server exited');
    assert.equal((await client.get('sys/health')).status, 200);
    // Each of these passes only if an inherited "type" / "policy" / "paths" field were seen.
    const mount = await client.post('sys/mounts/fz-pollution-check', {});
    assert.equal(mount.status, 400, describeReply(mount));
    assert.deepEqual(mount.body, { errors: ['type must be specified'] });
    assert.equal((await client.get('sys/mounts')).body.data['fz-pollution-check/'], undefined);
    const policy = await client.post('sys/policies/acl/fz-pollution-check', {});
    assert.equal(policy.status, 400, describeReply(policy));
    assert.equal((await client.get('sys/policies/acl/fz-pollution-check')).status, 404);
    const caps = await client.post('sys/capabilities-self', {});
    assert.equal(caps.status, 400, describeReply(caps));
    // A secret read back holds only what was written.
    assert.equal((await client.post('kv1/fz-pollution-check', { a: 'b' })).status, 204);
    const read = await client.get('kv1/fz-pollution-check');
    assert.deepEqual(read.body.data, { a: 'b' });
    assert.equal(read.body.polluted, undefined);
    assert.doesNotMatch(server.output, /unexpected error/);
    // Nor did the log repeat the 1 MiB values.
    assert.ok(!server.output.includes(HUGE_RUN), 'the server log holds a 1 MiB value');
  });

  it('quotes a 1 MiB mount type or policy document only briefly in its 400 (found by this run)', async () => {
    const mount = await client.post('sys/mounts/fz-regression', { type: HUGE });
    assert.equal(mount.status, 400);
    assert.deepEqual(mount.body, { errors: [`plugin not found in the catalog: ${HUGE.slice(0, 64)}...`] });
    assert.equal((await client.get('sys/mounts')).body.data['fz-regression/'], undefined);
    const policy = await client.post(`sys/policies/acl/${SEED_POLICY}`, { policy: HUGE });
    assert.equal(policy.status, 400);
    assert.deepEqual(policy.body, { errors: [`failed to parse policy "${SEED_POLICY}": line 1: expected "=" after key "${HUGE.slice(0, 64)}..."`] });
    assert.equal((await client.get(`sys/policies/acl/${SEED_POLICY}`)).body.data.policy, POLICY_TEXT);
  });

  it('takes a JSON null body as an empty one, as Vault does (found by this run)', async () => {
    const rotation = await client.get('sys/rotate/config');
    const asNull = await client.send({ method: 'POST', path: 'sys/rotate/config', body: 'null' });
    assert.equal(asNull.status, 204, describeReply(asNull));
    assert.deepEqual((await client.get('sys/rotate/config')).body.data, rotation.body.data);
    const caps = await client.send({ method: 'POST', path: 'sys/capabilities-self', body: 'null' });
    assert.deepEqual([caps.status, caps.body], [400, { errors: ['"paths" must be a list of paths'] }]);
    const mount = await client.send({ method: 'POST', path: 'sys/mounts/fz-null-body', body: 'null' });
    assert.deepEqual([mount.status, mount.body], [400, { errors: ['type must be specified'] }]);
  });

  it('refuses bad wrapping input too (when sys/wrapping is declared)', async (t) => {
    const wrappingPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/sys/wrapping/'));
    if (wrappingPaths.length === 0) {
      // Response wrapping is not declared yet: the generic cases above cover sys/wrapping/* once it is.
      t.diagnostic('sys/wrapping/* is not in the OpenAPI document: nothing wrapping-specific to send');
      return;
    }
    const before = await snapshot(client);
    const problems: string[] = [];
    const tryOne = async (label: string, req: RawRequest) => {
      const r = await client.send(req);
      const text = JSON.stringify(r.body ?? '');
      if (r.status >= 500 || (r.status >= 400 && !Array.isArray(r.body?.errors))) problems.push(`${label}: ${describeReply(r)}`);
      if (r.status >= 400 && /fzWrap|fzlong-/.test(text)) problems.push(`${label} repeats the value: ${describeReply(r)}`);
      if (r.status < 400) problems.push(`${label} accepted: ${describeReply(r)}`);
    };
    for (const ttl of ['fzWrapTtl', '-5s', '1e400', '5 minutes', LONG_QUERY.slice(0, 4096)]) {
      await tryOne(`X-Vault-Wrap-TTL: ${ttl.slice(0, 20)}`, { method: 'GET', path: 'kv1/fz-seed', headers: { 'X-Vault-Wrap-TTL': ttl } });
    }
    // Tokens that are not wrapping tokens, in the body and as the request's token.
    for (const path of ['sys/wrapping/unwrap', 'sys/wrapping/lookup', 'sys/wrapping/rewrap'].filter((p) => wrappingPaths.includes(`/${p}`))) {
      await tryOne(`${path} with a normal token`, { method: 'POST', path, body: JSON.stringify({ token: world.seeds.token }) });
      await tryOne(`${path} with an unknown token`, { method: 'POST', path, body: JSON.stringify({ token: 'hvs.fzWrapNoSuchToken' }) });
      await tryOne(`${path} as a normal token`, { method: 'POST', path, body: '{}', token: world.seeds.token });
    }
    assert.deepEqual(problems, [], problems.join('\n'));
    const now = await snapshot(client);
    assert.equal(snapshotDiff(before, now), '');
  });
});
