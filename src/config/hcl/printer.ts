/**
 * Canonical HCL output for `policy fmt`: two-space indentation, `=` aligned
 * within runs of attributes, a blank line around blocks, comments kept.
 */
import type { HclAttribute, HclBody, HclComment, HclItem, HclValue } from './ast.ts';

const INDENT = '  ';
const MAX_INLINE_LIST = 80;
const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_\-]*$/;

/** Renders a body as canonical HCL text ending in one newline. */
export function printHcl(body: HclBody): string {
  const out = printBody(body, 0).join('\n');
  return out ? out + '\n' : '';
}

function printBody(body: HclBody, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  const keyWidth = attributeRunWidths(body.items);
  body.items.forEach((item, i) => {
    const previous = body.items[i - 1];
    if (previous && (item.kind === 'block' || previous.kind === 'block' || item.leadingComments.length > 0)) lines.push('');
    lines.push(...item.leadingComments.map((c) => pad + commentText(c, pad)));
    const rendered = item.kind === 'attribute' ? printAttribute(item, keyWidth[i], depth) : printBlockLines(item, depth);
    rendered[0] = pad + rendered[0];
    if (item.trailingComment) rendered[rendered.length - 1] += ' ' + commentText(item.trailingComment, pad);
    lines.push(...rendered);
  });
  if (body.endComments.length > 0) {
    if (body.items.length > 0) lines.push('');
    lines.push(...body.endComments.map((c) => pad + commentText(c, pad)));
  }
  return lines;
}

/** Key column width for each attribute: the widest key in its run. */
function attributeRunWidths(items: HclItem[]): number[] {
  const widths: number[] = new Array(items.length).fill(0);
  let start = 0;
  for (let i = 0; i <= items.length; i++) {
    const item = items[i];
    const breaksRun = !item || item.kind === 'block' || (i > start && item.leadingComments.length > 0);
    if (!breaksRun) continue;
    const run = items.slice(start, i).filter((it): it is HclAttribute => it.kind === 'attribute');
    const width = Math.max(0, ...run.map((a) => printKey(a.key).length));
    for (let j = start; j < i; j++) widths[j] = width;
    start = item?.kind === 'block' ? i + 1 : i;
  }
  return widths;
}

function commentText(comment: HclComment, pad: string): string {
  // Re-indent the continuation lines of a multi-line /* */ comment.
  return comment.text.split('\n').map((l, i) => (i === 0 ? l : pad + l.trimStart())).join('\n');
}

function printAttribute(attr: HclAttribute, keyWidth: number, depth: number): string[] {
  const value = printValue(attr.value, depth);
  value[0] = `${printKey(attr.key).padEnd(keyWidth)} = ${value[0]}`;
  return value;
}

function printBlockLines(block: Extract<HclItem, { kind: 'block' }>, depth: number): string[] {
  const head = [block.type, ...block.labels.map((l) => quote(l.value))].join(' ');
  const lines = printBraced(block.body, depth);
  lines[0] = `${head} ${lines[0]}`;
  return lines;
}

function printBraced(body: HclBody, depth: number): string[] {
  if (body.items.length === 0 && body.endComments.length === 0) return ['{}'];
  return ['{', ...printBody(body, depth + 1), INDENT.repeat(depth) + '}'];
}

function printValue(value: HclValue, depth: number): string[] {
  switch (value.kind) {
    case 'string':
      if (value.heredoc) return [`<<${value.heredoc.marker}`, ...value.value.replace(/\n$/, '').split('\n'), value.heredoc.marker];
      return [quote(value.value)];
    case 'number':
      return [value.raw];
    case 'bool':
      return [String(value.value)];
    case 'object':
      return printBraced(value.body, depth);
    case 'list':
      return printList(value.items, depth);
  }
}

function printList(items: HclValue[], depth: number): string[] {
  const rendered = items.map((item) => printValue(item, depth + 1));
  const inline = `[${rendered.map((r) => r[0]).join(', ')}]`;
  if (rendered.every((r) => r.length === 1) && inline.length <= MAX_INLINE_LIST) return [inline];
  const pad = INDENT.repeat(depth + 1);
  const lines = rendered.flatMap((r) => {
    r[0] = pad + r[0];
    r[r.length - 1] += ',';
    return r;
  });
  return ['[', ...lines, INDENT.repeat(depth) + ']'];
}

function printKey(key: string): string {
  return BARE_KEY.test(key) ? key : quote(key);
}

/** HCL string literal: JSON-style escapes for quotes, backslashes, control characters. */
export function quote(text: string): string {
  return JSON.stringify(text);
}
