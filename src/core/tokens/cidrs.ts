/**
 * Bound CIDRs (Vault's token_bound_cidrs) as a token stores them: IP
 * addresses or CIDR blocks, IPv4 or IPv6, kept as Vault prints them: an
 * address alone when it is a single host (/32, /128), "address/prefix"
 * otherwise. Parsing and matching are core/cidr.ts's.
 */
import { parseCidr } from '../cidr.ts';

/**
 * Normalises a list of addresses / CIDR blocks; undefined when one of them
 * is neither (the caller names the field in its 400, never the value).
 */
export function normaliseCidrs(items: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const item of items) {
    if (item.trim() === '') continue;
    const parsed = parseCidr(item, true);
    if (!parsed) return undefined;
    const single = parsed.prefix === (parsed.family === 'ipv4' ? 32 : 128);
    out.push(single ? parsed.address : `${parsed.address}/${parsed.prefix}`);
  }
  return out;
}
