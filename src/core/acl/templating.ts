/**
 * Templated policy paths (Vault's identity templating in ACL mode):
 *
 *   path "secret/data/{{identity.entity.id}}/*" { ... }
 *
 * A path is resolved for each caller from the entity behind its token and
 * the entity's groups. Supported: identity.entity.id / .name /
 * .metadata.<key> / .aliases.<mount accessor>.id / .name / .metadata.<key> /
 * .custom_metadata.<key>, and identity.groups.ids.<group id>.id / .name /
 * .metadata.<key> and identity.groups.names.<group name>.(same). A path
 * whose template cannot be resolved for the caller (no entity, no such
 * alias, group or key, an empty value) is dropped for that caller, as in
 * Vault. `time.*` templates are not supported and drop their path too.
 *
 * Values that could widen a rule are refused, which drops the path as
 * well: a value containing "/" (an extra segment), "*" or "+" (a glob),
 * as OpenBao refuses them by default, and — stricter than Vault — a value
 * that is "." or "..", or contains "{{" / "}}" or a control character.
 */

/** What templates may read about the caller. */
export interface TemplateIdentity {
  /** Cache key: the entity's id and the identity store's generation. */
  key: string;
  entity: {
    id: string;
    name: string;
    metadata: Record<string, string> | null;
    aliases: Array<{ id: string; name: string; mount_accessor: string; metadata: Record<string, string> | null; custom_metadata: Record<string, string> | null }>;
  };
  groups: Array<{ id: string; name: string; metadata: Record<string, string> | null }>;
}

const OPEN = '{{';
const CLOSE = '}}';
const UNBALANCED = 'unbalanced templating characters';

export function hasTemplating(text: string): boolean {
  return text.includes(OPEN) || text.includes(CLOSE);
}

/** Vault's validity check (PopulateString with ValidityCheckOnly): the problem, or undefined when the text is well formed. */
export function templateProblem(text: string): string | undefined {
  const pieces = text.split(OPEN);
  if (pieces[0].includes(CLOSE)) return UNBALANCED;
  for (const piece of pieces.slice(1)) if (piece.split(CLOSE).length !== 2) return UNBALANCED;
  return undefined;
}

/**
 * The text with every template replaced by the caller's value; undefined
 * when one of them cannot be resolved or its value is refused (the path
 * is then dropped).
 */
export function resolveTemplate(text: string, identity: TemplateIdentity | undefined): string | undefined {
  const pieces = text.split(OPEN);
  if (pieces[0].includes(CLOSE)) return undefined;
  let out = pieces[0];
  for (const piece of pieces.slice(1)) {
    const parts = piece.split(CLOSE);
    if (parts.length !== 2) return undefined;
    const value = lookup(parts[0].trim(), identity);
    if (value === undefined || !acceptable(value)) return undefined;
    out += value + parts[1];
  }
  return out;
}

function acceptable(value: string): boolean {
  if (value === '' || value === '.' || value === '..') return false;
  if (value.includes('/') || value.includes('*') || value.includes('+')) return false;
  if (value.includes(OPEN) || value.includes(CLOSE)) return false;
  return !/[\u0000-\u001f\u007f]/.test(value);
}

/** An own property of a string map (never one inherited from Object.prototype). */
function own(map: Record<string, string> | null | undefined, key: string): string | undefined {
  if (!map || !Object.hasOwn(map, key)) return undefined;
  const value = map[key];
  return typeof value === 'string' ? value : undefined;
}

function lookup(selector: string, identity: TemplateIdentity | undefined): string | undefined {
  if (selector.startsWith('identity.entity.')) {
    if (!identity) return undefined;
    return entityValue(selector.slice('identity.entity.'.length), identity);
  }
  if (selector.startsWith('identity.groups.')) {
    if (!identity || identity.groups.length === 0) return undefined;
    return groupValue(selector.slice('identity.groups.'.length), identity);
  }
  return undefined;
}

function entityValue(rest: string, identity: TemplateIdentity): string | undefined {
  const { entity } = identity;
  if (rest === 'id') return entity.id;
  if (rest === 'name') return entity.name;
  if (rest.startsWith('metadata.')) return own(entity.metadata, rest.slice('metadata.'.length));
  if (rest.startsWith('aliases.')) {
    const tail = rest.slice('aliases.'.length);
    const dot = tail.indexOf('.');
    if (dot === -1) return undefined;
    const alias = entity.aliases.find((a) => a.mount_accessor === tail.slice(0, dot));
    if (!alias) return undefined;
    const field = tail.slice(dot + 1);
    if (field === 'id') return alias.id;
    if (field === 'name') return alias.name;
    if (field.startsWith('metadata.')) return own(alias.metadata, field.slice('metadata.'.length));
    if (field.startsWith('custom_metadata.')) return own(alias.custom_metadata, field.slice('custom_metadata.'.length));
    return undefined;
  }
  // groups.ids / groups.names / metadata are lists or maps: not a path segment in ACL mode.
  return undefined;
}

function groupValue(rest: string, identity: TemplateIdentity): string | undefined {
  const dot = rest.indexOf('.');
  if (dot === -1) return undefined;
  const by = rest.slice(0, dot);
  if (by !== 'ids' && by !== 'names') return undefined;
  const tail = rest.slice(dot + 1);
  const next = tail.indexOf('.');
  if (next === -1) return undefined;
  const wanted = tail.slice(0, next);
  const group = identity.groups.find((g) => (by === 'ids' ? g.id : g.name) === wanted);
  if (!group) return undefined;
  const field = tail.slice(next + 1);
  if (field === 'id') return group.id;
  if (field === 'name') return group.name;
  if (field.startsWith('metadata.')) return own(group.metadata, field.slice('metadata.'.length));
  return undefined;
}
