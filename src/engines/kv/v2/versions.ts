/**
 * Choosing and checking versions: which version a read targets, and the
 * check-and-set rule for writes.
 */
import { badRequest, notFound } from '../../../core/errors.ts';
import type { LogicalStorage } from '../../types.ts';
import { isUnreadable, loadMetadata, type StoredConfig, type StoredMetadata, type StoredVersion } from './model.ts';

export interface ReadTarget {
  metadata: StoredMetadata;
  version: number;
  state: StoredVersion;
  /** False when the version is soft-deleted or destroyed: Vault answers 404 with its metadata. */
  readable: boolean;
}

/**
 * Finds the version a read asks for (`requested` 0 means current).
 * Throws a bare 404 when the secret or that version does not exist.
 */
export async function findReadTarget(
  storage: LogicalStorage,
  path: string,
  requested: number,
  nowMs: number,
): Promise<ReadTarget> {
  const metadata = await loadMetadata(storage, path);
  if (metadata === undefined) throw notFound();
  const version = requested === 0 ? metadata.currentVersion : requested;
  const state = metadata.versions[String(version)];
  if (state === undefined) throw notFound();
  return { metadata, version, state, readable: !isUnreadable(state, nowMs) };
}

/**
 * Check-and-set: when `cas` is given the secret's current version must equal
 * it (0 = the secret must have no versions yet); when the secret or the
 * mount sets cas_required, `cas` must be given.
 */
export function checkCas(metadata: StoredMetadata | undefined, config: StoredConfig, cas: number | undefined): void {
  const required = config.casRequired || (metadata?.casRequired ?? false);
  if (cas === undefined) {
    if (required) throw badRequest('check-and-set parameter required for this call');
    return;
  }
  if (cas !== (metadata?.currentVersion ?? 0)) {
    throw badRequest('check-and-set parameter did not match the current version');
  }
}

/** The `versions` field of delete/undelete/destroy: at least one number, each 1 or more. */
export function checkVersionList(versions: number[]): number[] {
  if (versions.length === 0) throw badRequest('no version number provided');
  if (versions.some((version) => version < 1)) throw badRequest('"versions" must hold version numbers of 1 or more');
  return versions;
}
