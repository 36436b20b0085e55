/**
 * `delete/<path>`, `undelete/<path>`, `destroy/<path>`: change the state of
 * listed versions. Body `{versions: [1, 2]}`; answers 204. Versions the
 * secret does not have are skipped, as Vault does.
 */
import type { FieldSchema, PathDeclaration } from '../../../framework/index.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../../types.ts';
import { deleteVersionData, isDeleted, loadMetadata, saveMetadata, type StoredVersion } from './model.ts';
import { changeSecret, SECRET_PATH_FIELD, secretPattern, type KvV2Mount } from './shared.ts';
import { checkVersionList } from './versions.ts';

export type VersionAction = 'delete' | 'undelete' | 'destroy';

/** Applies the action to one version; returns whether anything changed. */
const ACTIONS: Record<VersionAction, (state: StoredVersion, nowMs: number) => boolean> = {
  delete(state, nowMs) {
    if (state.destroyed || isDeleted(state, nowMs)) return false;
    state.deletionMs = nowMs;
    return true;
  },
  undelete(state) {
    if (state.destroyed || state.deletionMs === null) return false;
    state.deletionMs = null;
    return true;
  },
  destroy(state) {
    if (state.destroyed) return false;
    state.destroyed = true;
    return true;
  },
};

const DESCRIPTIONS: Record<VersionAction, { synopsis: string; versions: string; summary: string }> = {
  delete: {
    synopsis: 'Soft-delete versions of a secret.',
    versions: 'The versions to mark deleted; their data is kept and undelete restores them.',
    summary: 'Soft-delete the listed versions.',
  },
  undelete: {
    synopsis: 'Restore soft-deleted versions of a secret.',
    versions: 'The versions to restore (destroyed versions stay destroyed).',
    summary: 'Restore the listed versions.',
  },
  destroy: {
    synopsis: 'Permanently erase versions of a secret.',
    versions: 'The versions whose data is erased for good; their metadata remains, marked destroyed.',
    summary: 'Destroy the listed versions.',
  },
};

/** The three paths, each taking `versions` (a list, or "1,2" as a query string or CLI sends it). */
export function versionStatePaths(mount: KvV2Mount): PathDeclaration<LogicalRequest>[] {
  return (Object.keys(ACTIONS) as VersionAction[]).map((action) => {
    const text = DESCRIPTIONS[action];
    const versions: FieldSchema = { type: 'comma-int-slice', description: text.versions, required: 'no version number provided' };
    return {
      pattern: secretPattern(action),
      fields: { path: SECRET_PATH_FIELD, versions },
      synopsis: text.synopsis,
      description: 'Versions the secret does not have are skipped; the answer is 204 either way.',
      operations: {
        update: {
          summary: text.summary,
          handler: (req, fields) => {
            const numbers = checkVersionList(fields.get<number[]>('versions'));
            return changeSecret(mount, fields, (path, nowMs) => changeVersions(action, req.storage, path, numbers, nowMs));
          },
        },
      },
    };
  });
}

async function changeVersions(
  action: VersionAction,
  storage: LogicalStorage,
  path: string,
  versions: number[],
  nowMs: number,
): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  if (metadata === undefined) return { status: 204 };
  const changed = versions.filter((version) => {
    const state = metadata.versions[String(version)];
    return state !== undefined && ACTIONS[action](state, nowMs);
  });
  if (changed.length === 0) return { status: 204 };
  await saveMetadata(storage, path, metadata);
  // Destroyed data goes only after the metadata stops pointing at it.
  if (action === 'destroy') for (const version of changed) await deleteVersionData(storage, path, version);
  return { status: 204 };
}
