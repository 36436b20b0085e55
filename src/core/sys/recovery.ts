import type { SysRoute } from '../sys-routes.ts';
import { sysData } from '../sys-routes.ts';
import { generateRootFor } from '../../core/generate-root.ts';
import { rekeyFor, type RekeyTarget } from '../../core/rekey.ts';

/**
 * The quorum endpoints: generate-root, rekey and recovery-key rekey. As in
 * Vault they need no token (the key shares are the authorisation) but do
 * need the server unsealed (503 otherwise). Only the backup endpoints,
 * which hand out stored encrypted shares, need a token with sudo.
 */
function rekeyRoutes(base: string, target: RekeyTarget): SysRoute[] {
  return [
    {
      pattern: `${base}/init`,
      public: true,
      methods: {
        GET: async ({ core }) => ({ body: await rekeyFor(core, target).status() }),
        PUT: async ({ core, data, remoteAddress }) => ({ body: await rekeyFor(core, target).start(data, remoteAddress) }),
        DELETE: async ({ core, data, remoteAddress }) => {
          await rekeyFor(core, target).cancel(data, remoteAddress);
          return {};
        },
      },
    },
    {
      pattern: `${base}/update`,
      public: true,
      methods: { PUT: async ({ core, data }) => ({ body: await rekeyFor(core, target).update(data) }) },
    },
    {
      pattern: `${base}/verify`,
      public: true,
      methods: {
        GET: async ({ core }) => ({ body: await rekeyFor(core, target).verifyStatus() }),
        PUT: async ({ core, data }) => ({ body: await rekeyFor(core, target).verify(data) }),
        DELETE: async ({ core }) => ({ body: await rekeyFor(core, target).restartVerification() }),
      },
    },
  ];
}

function backupRoute(pattern: string, target: RekeyTarget): SysRoute {
  return {
    pattern,
    sudo: true,
    methods: {
      GET: async ({ core }) => sysData({ ...(await rekeyFor(core, target).readBackup()) }),
      DELETE: async ({ core }) => {
        await rekeyFor(core, target).deleteBackup();
        return {};
      },
    },
  };
}

export const recoveryRoutes: SysRoute[] = [
  {
    pattern: 'sys/generate-root/attempt',
    public: true,
    methods: {
      GET: async ({ core }) => ({ body: await generateRootFor(core).status() }),
      PUT: async ({ core, data, remoteAddress }) => ({ body: await generateRootFor(core).start(data, remoteAddress) }),
      DELETE: async ({ core, data, remoteAddress }) => {
        await generateRootFor(core).cancel(data, remoteAddress);
        return {};
      },
    },
  },
  {
    pattern: 'sys/generate-root/update',
    public: true,
    methods: { PUT: async ({ core, data }) => ({ body: await generateRootFor(core).update(data) }) },
  },
  // Backups before the wider patterns; Vault documents the recovery one under sys/rekey/.
  backupRoute('sys/rekey/backup', 'barrier'),
  backupRoute('sys/rekey/recovery-key-backup', 'recovery'),
  backupRoute('sys/rekey-recovery-key/backup', 'recovery'),
  ...rekeyRoutes('sys/rekey', 'barrier'),
  ...rekeyRoutes('sys/rekey-recovery-key', 'recovery'),
];
