/**
 * Normalises a policy list the way Vault does: trimmed, lower-cased,
 * de-duplicated and sorted, with "default" added when asked. A list that
 * contains "root" collapses to just ["root"]: root needs nothing else.
 */
export function sanitizePolicies(policies: string[], addDefault: boolean): string[] {
  const set = new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

/**
 * True when every policy in `requested` is in `allowed`, "default" included:
 * a parent without default cannot hand it out (Vault's StrListSubset).
 */
export function isPolicySubset(requested: string[], allowed: string[]): boolean {
  const allowedSet = new Set(allowed);
  return requested.every((p) => allowedSet.has(p));
}
