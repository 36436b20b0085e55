/**
 * `delete/<path>`, `undelete/<path>`, `destroy/<path>`: change the state of
 * listed versions. Body `{versions: [1, 2]}`; answers 204. Versions the
 * secret does not have are skipped, as Vault does.
 */
import type { LogicalResponse, LogicalStorage } from '../../types.ts';
import type { JsonObject } from '../../../core/request-fields.ts';
import { deleteVersionData, isDeleted, loadMetadata, saveMetadata, type StoredVersion } from './model.ts';
import { parseVersionList } from './versions.ts';

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

export async function changeVersions(
  action: VersionAction,
  storage: LogicalStorage,
  path: string,
  body: JsonObject,
  nowMs: number,
): Promise<LogicalResponse> {
  const versions = parseVersionList(body.versions);
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
