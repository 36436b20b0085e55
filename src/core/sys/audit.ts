import { badRequest } from '../errors.ts';
import type { FieldSchemas } from '../../framework/index.ts';
import { authed, noContent, sysData, type SysPath } from './request.ts';

const AUDIT_PATH = { path: { type: 'string', description: 'The path of the audit device, e.g. "file".' } } as const satisfies FieldSchemas;

/** Device options are strings; numbers and booleans sent by clients are taken as their text. */
function optionsOf(value: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value ?? {})) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw badRequest(`options.${key} must be a string`);
    out[key] = String(item);
  }
  return out;
}

/** Audit devices: sys/audit (list), sys/audit/<path> (enable, disable), sys/audit-hash/<path>. All need sudo, as in Vault. */
export const auditPaths: SysPath[] = [
  {
    pattern: 'audit',
    sudo: true,
    synopsis: 'List the enabled audit devices.',
    operations: {
      read: async (req) => {
        const out: Record<string, unknown> = {};
        for (const e of authed(req).state.core.audit.list()) {
          out[e.path] = { path: e.path, type: e.type, description: e.description, options: e.options, local: e.local };
        }
        return sysData(out);
      },
    },
  },
  {
    pattern: 'audit/(?<path>.+)',
    sudo: true,
    synopsis: 'Enable or disable an audit device.',
    description: 'Every request and response is recorded by the enabled audit devices; with one enabled, a request no device can record is refused.',
    fields: {
      ...AUDIT_PATH,
      type: { type: 'string', description: 'The device type: file, socket or syslog.' },
      description: { type: 'string', description: 'Human-friendly description of the audit device.' },
      options: { type: 'map', description: 'Device options, e.g. file_path for file; address and socket_type for socket; facility and tag for syslog.' },
      local: { type: 'bool', description: 'The device is not replicated.' },
    },
    operations: {
      update: async (req, f) => {
        await authed(req).state.core.audit.enable({
          path: f.get('path'),
          type: f.get<string>('type'),
          description: f.get<string>('description'),
          options: optionsOf(f.getOk('options')),
          local: f.get<boolean>('local'),
        });
        return noContent();
      },
      delete: async (req, f) => {
        await authed(req).state.core.audit.disable(f.get('path'));
        return noContent();
      },
    },
  },
  {
    pattern: 'audit-hash/(?<path>.+)',
    sudo: true,
    synopsis: "Hash a value with an audit device's salt, to find it in the audit log.",
    fields: {
      ...AUDIT_PATH,
      input: { type: 'string', description: 'The value to hash.', sensitive: true },
    },
    operations: {
      update: async (req, f) => {
        const input = f.get<string>('input');
        if (input === '') throw badRequest('the "input" parameter is empty');
        return sysData({ hash: authed(req).state.core.audit.hash(f.get('path'), input) });
      },
    },
  },
];
