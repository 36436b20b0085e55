/** `config`: the mount-wide defaults for max_versions, cas_required and delete_version_after. */
import type { FieldData, PathDeclaration } from '../../../framework/index.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../../types.ts';
import { configView, DELETE_VERSION_AFTER_DISABLED, loadConfig, saveConfig } from './model.ts';
import { CONFIG_LOCK_KEY, nonNegativeInt, type KvV2Mount } from './shared.ts';

export function configPath(mount: KvV2Mount): PathDeclaration<LogicalRequest> {
  return {
    pattern: 'config',
    fields: {
      max_versions: { type: 'int', description: 'How many versions to keep of each secret; 0 keeps the default of 10.' },
      cas_required: { type: 'bool', description: 'Whether every write to data/ must carry the check-and-set option "cas".' },
      delete_version_after: {
        type: 'signed-duration',
        description: 'How long after it is written a version is deleted. 0 clears the setting; a negative value turns age-based deletion off for every secret. Read back as a Go duration ("1h0m0s").',
      },
    },
    synopsis: 'Settings that apply to every secret of the mount.',
    description: 'Writing changes only the fields given; reading returns all three, delete_version_after as a Go duration string.',
    operations: {
      read: { summary: 'Read the mount-wide settings.', handler: (req) => readConfig(req.storage) },
      update: {
        summary: 'Change the mount-wide settings.',
        handler: (req, fields) => mount.lock.run(CONFIG_LOCK_KEY, () => writeConfig(req.storage, fields)),
      },
    },
  };
}

/** Read: `{data: {cas_required, delete_version_after: "0s", max_versions}}`. */
async function readConfig(storage: LogicalStorage): Promise<LogicalResponse> {
  return { data: configView(await loadConfig(storage)) };
}

/** Write: absent fields keep their value; 204. */
async function writeConfig(storage: LogicalStorage, fields: FieldData): Promise<LogicalResponse> {
  const maxVersions = nonNegativeInt(fields, 'max_versions');
  const casRequired = fields.getOk<boolean>('cas_required');
  const deleteVersionAfter = fields.getOk<number>('delete_version_after');
  const config = await loadConfig(storage);
  if (maxVersions !== undefined) config.maxVersions = maxVersions;
  if (casRequired !== undefined) config.casRequired = casRequired;
  if (deleteVersionAfter !== undefined) {
    config.deleteVersionAfterMs = deleteVersionAfter < 0 ? DELETE_VERSION_AFTER_DISABLED : deleteVersionAfter * 1000;
  }
  await saveConfig(storage, config);
  return { status: 204 };
}
