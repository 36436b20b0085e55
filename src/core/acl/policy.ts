/**
 * ACL policy documents (Vault syntax), HCL or JSON:
 *
 *   path "secret/data/*" {
 *     capabilities = ["create", "read", "update", "patch", "delete", "list"]
 *   }
 *   path "sys/mounts" { policy = "read" }   # old shorthand
 */
import { badRequest } from '../errors.ts';
import { BodyReader, HclError, collectBlocks, parseDocument, type HclValue } from '../../config/hcl.ts';
import { hasTemplating, templateProblem } from './templating.ts';

export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What each old `policy = "..."` word grants. */
const SHORTHAND: Record<string, readonly Capability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

const RULE_KEYS = [
  'capabilities', 'policy', 'allowed_parameters', 'denied_parameters', 'required_parameters', 'min_wrapping_ttl', 'max_wrapping_ttl',
];

export type ParameterValue = string | number | boolean;

export interface PathRule {
  /** The pattern as written, minus a leading "/" (a trailing `*` is kept). */
  path: string;
  /** Granted capabilities, shorthand expanded, without duplicates. */
  capabilities: Capability[];
  line: number;
  /**
   * Parameter constraints, enforced by the ACL on read, create, update and
   * patch (see acl.ts). Keys are lower-cased; an empty value list means any
   * value; `*` stands for every parameter.
   */
  allowedParameters?: Record<string, ParameterValue[]>;
  deniedParameters?: Record<string, ParameterValue[]>;
  requiredParameters?: string[];
  /** Seconds; the request's X-Vault-Wrap-TTL must lie within them. */
  minWrappingTtl?: number;
  maxWrappingTtl?: number;
  /** The path holds identity templates ({{identity.entity.id}}...): resolved per caller (templating.ts). */
  templated?: boolean;
}

export interface Policy {
  /** Lower-case name. */
  name: string;
  /** The document as submitted (returned by sys/policy reads). */
  text: string;
  rules: PathRule[];
  /** Some rule's path is templated: the policy's ACL depends on the caller's identity. */
  templated?: boolean;
}

/** Longest excerpt of the document (a key, a label) a parse error quotes. */
const MAX_QUOTED = 64;
const MAX_PROBLEM = 512;

/**
 * A parse problem as the client sees it: the quoted key or label points at
 * the mistake but is cut short, so a huge document is never handed back.
 */
function boundedProblem(message: string): string {
  const quoted = message.replace(/"([^"]*)"/g, (all, inner: string) => (inner.length > MAX_QUOTED ? `"${inner.slice(0, MAX_QUOTED)}..."` : all));
  return quoted.length > MAX_PROBLEM ? `${quoted.slice(0, MAX_PROBLEM)}...` : quoted;
}

/**
 * Parses and validates a policy. Throws TresorError 400
 * `failed to parse policy "<name>": line <n>: <problem>`.
 */
export function parsePolicy(name: string, text: string): Policy {
  const policyName = name.toLowerCase();
  try {
    const body = parseDocument(text);
    const top = new BodyReader(body, '');
    top.allowOnly(['path', 'name']);
    const rules = collectBlocks(body, 'path', 1).map((block) => {
      const pattern = block.labels[0].replace(/^\//, '');
      const reader = new BodyReader(block.body, `path "${block.labels[0]}"`, block);
      reader.allowOnly(RULE_KEYS);
      if (pattern.includes('+*')) throw reader.error(`path "${pattern}": invalid use of wildcards ("+*" is not allowed)`);
      const templated = hasTemplating(pattern);
      const problem = templated ? templateProblem(pattern) : undefined;
      if (problem) throw reader.error(`failed to validate policy templating: ${problem}`, block);
      const rule: PathRule = { path: pattern, capabilities: readCapabilities(reader), line: block.line };
      readParameterControls(reader, rule);
      if (templated) rule.templated = true;
      return rule;
    });
    const templated = rules.some((r) => r.templated);
    return { name: policyName, text, rules, ...(templated ? { templated } : {}) };
  } catch (err) {
    if (err instanceof HclError) throw badRequest(`failed to parse policy "${policyName}": line ${err.line}: ${boundedProblem(err.message)}`);
    throw err;
  }
}

function readCapabilities(reader: BodyReader): Capability[] {
  const granted = new Set<Capability>();
  const shorthand = reader.string('policy');
  if (shorthand !== undefined) {
    const expanded = SHORTHAND[shorthand];
    if (!expanded) throw reader.error(`invalid policy shorthand "${shorthand}" (use read, write, deny or sudo)`, reader.attribute('policy'));
    expanded.forEach((c) => granted.add(c));
  }
  const listed = reader.stringList('capabilities') ?? [];
  const attr = reader.attribute('capabilities');
  listed.forEach((capability, i) => {
    if (!(CAPABILITIES as readonly string[]).includes(capability)) {
      const at = attr?.value.kind === 'list' ? attr.value.items[i] : attr;
      throw reader.error(`unknown capability "${capability}" (allowed: ${CAPABILITIES.join(', ')})`, at);
    }
    granted.add(capability as Capability);
  });
  return CAPABILITIES.filter((c) => granted.has(c));
}

function readParameterControls(reader: BodyReader, rule: PathRule): void {
  for (const [key, prop] of [['allowed_parameters', 'allowedParameters'], ['denied_parameters', 'deniedParameters']] as const) {
    const attr = reader.attribute(key);
    if (!attr) continue;
    if (attr.value.kind !== 'object') throw reader.error(`key "${key}" must be a map of parameter names to lists of values`, attr);
    // Null prototype while filling, so a parameter named "__proto__" stays a plain key.
    const params: Record<string, ParameterValue[]> = Object.create(null);
    for (const item of attr.value.body.items) {
      if (item.kind !== 'attribute' || item.value.kind !== 'list') throw reader.error(`key "${key}" must be a map of parameter names to lists of values`, item);
      // Vault matches parameter names case-insensitively: keys are kept lower-cased.
      params[item.key.toLowerCase()] = item.value.items.map((v) => scalarValue(v, reader, key));
    }
    rule[prop] = { ...params };
  }
  rule.requiredParameters = reader.stringList('required_parameters');
  rule.minWrappingTtl = reader.duration('min_wrapping_ttl');
  rule.maxWrappingTtl = reader.duration('max_wrapping_ttl');
  if (rule.minWrappingTtl && rule.maxWrappingTtl && rule.maxWrappingTtl < rule.minWrappingTtl) {
    throw reader.error('max_wrapping_ttl cannot be less than min_wrapping_ttl', reader.attribute('max_wrapping_ttl'));
  }
  for (const key of Object.keys(rule) as (keyof PathRule)[]) if (rule[key] === undefined) delete rule[key];
}

function scalarValue(value: HclValue, reader: BodyReader, key: string): ParameterValue {
  if (value.kind === 'string' || value.kind === 'number' || value.kind === 'bool') return value.value;
  throw reader.error(`key "${key}": parameter values must be strings, numbers or booleans`, value);
}
