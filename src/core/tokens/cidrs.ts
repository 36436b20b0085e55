/**
 * Bound CIDRs (Vault's token_bound_cidrs): the addresses a token may be used
 * from. Entries are IP addresses or CIDR blocks, IPv4 or IPv6, kept as
 * Vault prints them: an address alone when it is a single host (/32, /128),
 * "address/prefix" otherwise.
 */
import net from 'node:net';

interface ParsedCidr {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

function parseCidr(text: string): ParsedCidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const version = net.isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const bits = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
    prefix = Number(bits);
  }
  return { address, family: version === 4 ? 'ipv4' : 'ipv6', prefix };
}

/**
 * Normalises a list of addresses / CIDR blocks; undefined when one of them
 * is neither (the caller names the field in its 400, never the value).
 */
export function normaliseCidrs(items: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const item of items) {
    if (item.trim() === '') continue;
    const parsed = parseCidr(item);
    if (!parsed) return undefined;
    const single = parsed.prefix === (parsed.family === 'ipv4' ? 32 : 128);
    out.push(single ? parsed.address : `${parsed.address}/${parsed.prefix}`);
  }
  return out;
}

/** Whether `remote` (a socket's remote address) lies in one of `cidrs`; false when it is missing or not an IP. */
export function addressAllowed(remote: string | undefined, cidrs: readonly string[]): boolean {
  if (!remote) return false;
  // A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  const address = mapped ? mapped[1] : remote;
  const version = net.isIP(address);
  if (version === 0) return false;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
