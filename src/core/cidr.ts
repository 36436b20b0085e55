/**
 * CIDR blocks: the addresses a login may come from (AppRole's
 * secret_id_bound_cidrs and cidr_list) and those a token may be used from
 * (token_bound_cidrs). Matching goes through node:net's
 * BlockList; lists are compiled once per distinct text and cached.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 'ipv4' | 'ipv6';
  /** The address part as written. */
  address: string;
  prefix: number;
}

/**
 * A CIDR block ("10.0.0.0/8", "2001:db8::/32"); with `plainIp`, a bare
 * address too (a /32 or /128), as Vault's token_bound_cidrs takes them.
 * Undefined when the text is neither.
 */
export function parseCidr(text: string, plainIp = false): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash === -1) return plainIp ? { family, address, prefix: max } : undefined;
  const prefixText = trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { family, address, prefix } : undefined;
}

/** Whether every entry parses (see {@link parseCidr}). */
export function validCidrList(list: readonly string[], plainIp = false): boolean {
  return list.every((item) => parseCidr(item, plainIp) !== undefined);
}

const compiled = new Map<string, BlockList>();
const MAX_COMPILED = 1024;

function blockList(list: readonly string[]): BlockList {
  const key = list.join(',');
  let blocks = compiled.get(key);
  if (!blocks) {
    blocks = new BlockList();
    for (const item of list) {
      const cidr = parseCidr(item, true);
      if (cidr) blocks.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, blocks);
  }
  return blocks;
}

/** The client address without an IPv4-mapped IPv6 prefix ("::ffff:10.0.0.1" is 10.0.0.1). */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Whether `address` lies in one of the blocks; false for a missing or unparseable address. */
export function addressAllowed(address: string | undefined, list: readonly string[]): boolean {
  if (!address) return false;
  const plain = plainAddress(address.split('%')[0]!);
  const family = isIPv4(plain) ? 'ipv4' : isIPv6(plain) ? 'ipv6' : undefined;
  if (!family) return false;
  return blockList(list).check(plain, family);
}

/**
 * Whether every block of `inner` lies inside some block of `outer` (an empty
 * `outer` contains everything): a secret ID's CIDRs must narrow its role's.
 */
export function cidrSubset(outer: readonly string[], inner: readonly string[]): boolean {
  if (outer.length === 0) return true;
  const parents = outer.map((o) => parseCidr(o, true)).filter((c): c is Cidr => c !== undefined);
  return inner.every((item) => {
    const child = parseCidr(item, true);
    if (!child) return false;
    return parents.some((p) => {
      if (p.family !== child.family || p.prefix > child.prefix) return false;
      const one = new BlockList();
      one.addSubnet(p.address, p.prefix, p.family);
      return one.check(child.address, child.family);
    });
  });
}
