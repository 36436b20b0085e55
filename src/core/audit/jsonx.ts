/**
 * JSONx (IBM's XML rendering of JSON), Vault's `format = "jsonx"`: one XML
 * document per entry, on one line.
 */
const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>';
const NAMESPACES =
  ' xsi:schemaLocation="http://www.datapower.com/schemas/json jsonx.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:json="http://www.ibm.com/xmlns/prod/2009/jsonx"';

function escapeXml(text: string): string {
  return text.replace(/[<>&"'\r\n]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\r': '&#13;', '\n': '&#10;' })[c]!);
}

function element(value: unknown, name: string | undefined, root: boolean): string {
  const attrs = `${name === undefined ? '' : ` name="${escapeXml(name)}"`}${root ? NAMESPACES : ''}`;
  if (value === null || value === undefined) return `<json:null${attrs}/>`;
  if (typeof value === 'string') return `<json:string${attrs}>${escapeXml(value)}</json:string>`;
  if (typeof value === 'number') return `<json:number${attrs}>${value}</json:number>`;
  if (typeof value === 'boolean') return `<json:boolean${attrs}>${value}</json:boolean>`;
  if (Array.isArray(value)) return `<json:array${attrs}>${value.map((v) => element(v, undefined, false)).join('')}</json:array>`;
  const inner = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => element(v, k, false))
    .join('');
  return `<json:object${attrs}>${inner}</json:object>`;
}

/** The JSONx document of a JSON value (JSON.stringify's treatment of undefined: left out). */
export function toJsonx(value: unknown): string {
  return HEADER + element(JSON.parse(JSON.stringify(value)), undefined, true);
}
