/**
 * KV v1/v2 detection and API path building, as Vault's CLI does it: a
 * preflight read of /v1/sys/internal/ui/mounts/<path> tells which mount holds
 * the path and its KV version; v2 paths get `data/`, `metadata/`, `delete/`,
 * `undelete/` or `destroy/` inserted right after the mount.
 */
import { ApiClient, ApiError } from './client.ts';
import { callApi, sanitizePath } from './command.ts';

export type KvApiPrefix = 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy';

export interface KvMount {
  /** The mount holding the path, with a trailing slash (`secret/`); '' when unknown (v1 on an old server). */
  mountPath: string;
  version: 1 | 2;
}

/**
 * Inserts `prefix` after `mountPath` in `path`:
 * (`secret/`, `secret/app/db`, `data`) -> `secret/data/app/db`.
 * A path equal to the mount itself gives `secret/data`.
 */
export function kvApiPath(mountPath: string, path: string, prefix: KvApiPrefix): string {
  const mount = sanitizePath(mountPath);
  const clean = sanitizePath(path);
  if (clean === mount) return `${mount}/${prefix}`;
  const rest = clean.startsWith(`${mount}/`) ? clean.slice(mount.length + 1) : clean;
  return `${mount}/${prefix}/${rest}`;
}

/** The user's path, joined under `-mount` when that flag is given. */
export function kvUserPath(path: string, mountFlag: string | undefined): string {
  const clean = sanitizePath(path);
  return mountFlag ? [sanitizePath(mountFlag), clean].filter((p) => p !== '').join('/') : clean;
}

interface PreflightResponse {
  data?: { path?: string; type?: string; options?: Record<string, string> | null } | null;
}

/**
 * Interprets the preflight answer; null (the endpoint is missing, so an old
 * server) means KV v1 mounted at the path's first segment.
 */
export function kvMountFromPreflight(path: string, res: PreflightResponse | null): KvMount {
  if (!res?.data) return { mountPath: `${sanitizePath(path).split('/')[0]}/`, version: 1 };
  const version = res.data.options?.version === '2' ? 2 : 1;
  return { mountPath: res.data.path ?? `${sanitizePath(path).split('/')[0]}/`, version };
}

/** Asks the server which KV mount (and version) `path` lives in. */
export async function detectKvMount(client: ApiClient, path: string): Promise<KvMount> {
  const lookup = client.request<PreflightResponse>('GET', `sys/internal/ui/mounts/${sanitizePath(path)}`, { noWrap: true }).catch((err: unknown) => {
    // Any 404 here means the server predates the endpoint: Vault's CLI then assumes v1.
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });
  return kvMountFromPreflight(path, await callApi('checking the KV mount', lookup));
}
