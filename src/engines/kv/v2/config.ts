/** `config`: the mount-wide defaults for max_versions, cas_required and delete_version_after. */
import type { LogicalResponse, LogicalStorage } from '../../types.ts';
import { optionalBool, optionalDurationMs, optionalNonNegativeInt, type JsonObject } from '../../../core/request-fields.ts';
import { configView, loadConfig, saveConfig } from './model.ts';

/** Read: `{data: {cas_required, delete_version_after: "0s", max_versions}}`. */
export async function readConfig(storage: LogicalStorage): Promise<LogicalResponse> {
  return { data: configView(await loadConfig(storage)) };
}

/** Write: absent fields keep their value; 204. */
export async function writeConfig(storage: LogicalStorage, body: JsonObject): Promise<LogicalResponse> {
  const maxVersions = optionalNonNegativeInt(body.max_versions, 'max_versions');
  const casRequired = optionalBool(body.cas_required, 'cas_required');
  const deleteVersionAfterMs = optionalDurationMs(body.delete_version_after, 'delete_version_after');
  const config = await loadConfig(storage);
  if (maxVersions !== undefined) config.maxVersions = maxVersions;
  if (casRequired !== undefined) config.casRequired = casRequired;
  if (deleteVersionAfterMs !== undefined) config.deleteVersionAfterMs = deleteVersionAfterMs;
  await saveConfig(storage, config);
  return { status: 204 };
}
