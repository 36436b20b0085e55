/**
 * Help text and OpenAPI 3 path items generated from path declarations, for
 * `?help=1`, `GET sys/internal/specs/openapi` and `tresor path-help`.
 */
import type { Operation } from '../engines/types.ts';
import type { FieldSchema, FieldType } from './fields.ts';
import type { PathDeclaration } from './path.ts';

export type OpenApiPathItem = Record<string, unknown>;

// Declarations are generic over their request type; here only their data matters.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDeclaration = PathDeclaration<any>;

/** The help answer's text: pattern, synopsis, fields (alphabetical) and description. */
export function helpText(requestPath: string, d: AnyDeclaration): string {
  const lines = [`Request:        ${requestPath}`, `Matching Route: ^${d.pattern}$`, '', d.synopsis.trim() || '<no synopsis>', ''];
  const names = Object.keys(d.fields ?? {}).sort();
  if (names.length > 0) {
    lines.push('## PARAMETERS', '');
    for (const name of names) {
      const f = d.fields![name];
      lines.push(`${name} (${f.type})`, '', `    ${f.description.trim() || '<no description>'}`, '');
    }
  }
  lines.push('## DESCRIPTION', '', d.description?.trim() || d.synopsis.trim() || '<no description>');
  return lines.join('\n');
}

const OPENAPI_TYPES: Record<FieldType, Record<string, unknown>> = {
  string: { type: 'string' },
  'lowercase-string': { type: 'string' },
  'name-string': { type: 'string' },
  int: { type: 'integer' },
  float: { type: 'number' },
  bool: { type: 'boolean' },
  duration: { type: 'string', format: 'duration' },
  'signed-duration': { type: 'string', format: 'duration' },
  'comma-string-slice': { type: 'array', items: { type: 'string' } },
  'comma-int-slice': { type: 'array', items: { type: 'integer' } },
  'string-slice': { type: 'array', items: { type: 'string' } },
  slice: { type: 'array', items: { type: 'object' } },
  map: { type: 'object' },
  'kv-pairs': { type: 'object' },
  header: { type: 'object' },
};

function fieldSchema(f: FieldSchema): Record<string, unknown> {
  const out: Record<string, unknown> = { ...OPENAPI_TYPES[f.type], description: f.description };
  if (f.default !== undefined) out.default = f.default;
  if (f.allowedValues) out.enum = [...f.allowedValues];
  if (f.sensitive) out['x-vault-sensitive'] = true;
  return out;
}

const METHOD_OF: Record<Operation, string> = {
  read: 'get', list: 'get', create: 'post', update: 'post', patch: 'patch', delete: 'delete',
};

/** OpenAPI path items for declarations under a mount point ("secret/"). */
export function openApiPathItems(mountPoint: string, declarations: AnyDeclaration[]): Record<string, OpenApiPathItem> {
  const out: Record<string, OpenApiPathItem> = {};
  for (const d of declarations) {
    const captures = new Set([...d.pattern.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1]));
    for (const template of expandPattern(d.pattern)) {
      const path = `/${mountPoint}${template}`.replace(/\/+/g, '/');
      const used = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const item: OpenApiPathItem = { description: d.synopsis };
      if (d.unauthenticated) item['x-vault-unauthenticated'] = true;
      if (d.sudo) item['x-vault-sudo'] = true;
      if (used.length > 0) {
        item.parameters = used.map((name) => ({
          name, in: 'path', required: true, description: d.fields?.[name]?.description ?? '', schema: { type: 'string' },
        }));
      }
      const bodyFields = Object.entries(d.fields ?? {}).filter(([name]) => !captures.has(name));
      for (const [op, declared] of Object.entries(d.operations) as [Operation, unknown][]) {
        if (!declared) continue;
        const method = METHOD_OF[op];
        if (op === 'list' && item.get) continue;
        const summary = typeof declared === 'object' && declared !== null && 'summary' in declared ? (declared as { summary?: string }).summary : undefined;
        const operation: Record<string, unknown> = {
          summary: summary ?? d.synopsis,
          operationId: `${op}-${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
          responses: { 200: { description: 'OK' }, 204: { description: 'empty body' } },
        };
        if (op === 'list') {
          operation.parameters = [{ name: 'list', in: 'query', required: true, description: 'Must be set to `true`', schema: { type: 'string', enum: ['true'] } }];
        }
        if ((method === 'post' || method === 'patch') && (bodyFields.length > 0 || d.takesArbitraryInput)) {
          const properties = Object.fromEntries(bodyFields.map(([name, f]) => [name, fieldSchema(f)]));
          const required = bodyFields.filter(([, f]) => f.required).map(([name]) => name);
          operation.requestBody = {
            required: required.length > 0,
            content: { [method === 'patch' ? 'application/merge-patch+json' : 'application/json']: { schema: { type: 'object', properties, ...(required.length ? { required } : {}), ...(d.takesArbitraryInput ? { additionalProperties: true } : {}) } } },
          };
        }
        if (method === 'get' && bodyFields.length > 0 && op === 'read') {
          operation.parameters = bodyFields.map(([name, f]) => ({ name, in: 'query', description: f.description, schema: OPENAPI_TYPES[f.type] }));
        }
        if (!item[method]) item[method] = operation;
      }
      out[path] = item;
    }
  }
  return out;
}

/**
 * The OpenAPI templates a pattern stands for: named groups become `{name}`,
 * each optional group `(?:...)?` doubles the variants, a trailing `/?` is dropped.
 */
export function expandPattern(pattern: string): string[] {
  const optional = findOptionalGroup(pattern);
  if (optional) {
    const [start, end] = optional; // end points past ")?"
    const inner = pattern.slice(start + 3, end - 2);
    const before = pattern.slice(0, start);
    const after = pattern.slice(end);
    return [...new Set([...expandPattern(before + after), ...expandPattern(before + inner + after)])];
  }
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith('(?<', i) && pattern[i + 3] !== '=' && pattern[i + 3] !== '!') {
      const close = matchingParen(pattern, i);
      const name = /^\(\?<(\w+)>/.exec(pattern.slice(i))![1];
      out += `{${name}}`;
      i = close;
    } else if (pattern[i] === '\\' && i + 1 < pattern.length) {
      out += pattern[i + 1];
      i++;
    } else if (pattern.startsWith('/?', i) && i + 2 === pattern.length) {
      break;
    } else if (!'^$()?'.includes(pattern[i])) {
      out += pattern[i];
    }
  }
  return [out];
}

function findOptionalGroup(pattern: string): [number, number] | undefined {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      i++;
      continue;
    }
    if (pattern.startsWith('(?:', i)) {
      const close = matchingParen(pattern, i);
      if (pattern[close + 1] === '?') return [i, close + 2];
    }
  }
  return undefined;
}

function matchingParen(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      i++;
      continue;
    }
    if (pattern[i] === '(') depth++;
    else if (pattern[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in path pattern "${pattern}"`);
}
