import { badRequest } from '../errors.ts';
import { VERSION } from '../core.ts';
import type { FieldSchemas } from '../../framework/index.ts';
import type { SealBackendStatus } from '../../seal/seal.ts';
import { callerAcl } from './internal.ts';
import { noContent, raw, sysData, type SysPath, type SysRequest } from './request.ts';
import { leaderStatus } from '../ha/sys.ts';

const STATUS_CODE = (what: string) => ({ type: 'int', description: `HTTP status code to answer when the node is ${what}.` }) as const;
const HEALTH_FIELDS: FieldSchemas = {
  standbyok: { type: 'bool', description: 'Answer the active code from a standby node.' },
  perfstandbyok: { type: 'bool', description: 'Answer the active code from a performance standby node.' },
  activecode: { ...STATUS_CODE('active, initialized and unsealed'), default: 200 },
  standbycode: { ...STATUS_CODE('a standby'), default: 429 },
  drsecondarycode: { ...STATUS_CODE('a DR secondary'), default: 472 },
  performancestandbycode: { ...STATUS_CODE('a performance standby'), default: 473 },
  sealedcode: { ...STATUS_CODE('sealed'), default: 503 },
  uninitcode: { ...STATUS_CODE('not initialized'), default: 501 },
};

function statusCode(value: number, name: string): number {
  if (value < 100 || value > 599) throw badRequest(`${name} must be an HTTP status code`);
  return value;
}

/** init, seal, unseal, status, health, rotation: the server's lifecycle. */
export const lifecyclePaths: SysPath[] = [
  {
    pattern: 'init',
    unauthenticated: true,
    synopsis: 'Initialise a new server: create the root key, its shares (or recovery shares) and the root token.',
    fields: {
      secret_shares: { type: 'int', description: 'Number of key shares to split the root key into (Shamir seal).' },
      secret_threshold: { type: 'int', description: 'Number of key shares needed to unseal (Shamir seal).' },
      stored_shares: { type: 'int', description: 'Number of shares to store (must equal secret_shares with an HSM seal).' },
      pgp_keys: { type: 'string-slice', description: 'Base64 PGP public keys, one per share, to encrypt the shares with.' },
      root_token_pgp_key: { type: 'string', description: 'Base64 PGP public key to encrypt the initial root token with.' },
      recovery_shares: { type: 'int', description: 'Number of recovery key shares (HSM seal).' },
      recovery_threshold: { type: 'int', description: 'Number of recovery key shares needed to authorise quorum operations (HSM seal).' },
      recovery_pgp_keys: { type: 'string-slice', description: 'Base64 PGP public keys, one per recovery share.' },
    },
    operations: {
      read: { summary: 'Whether the server is initialised.', handler: async (req) => raw({ initialized: await req.core.isInitialized() }) },
      update: { summary: 'Initialise the server.', handler: async (req, f) => raw(await req.core.initialize(f.given())) },
    },
  },
  {
    pattern: 'seal-status',
    unauthenticated: true,
    synopsis: 'Seal state, unseal progress and cluster identity.',
    operations: { read: async (req) => raw(await req.core.sealStatus()) },
  },
  {
    pattern: 'unseal',
    unauthenticated: true,
    synopsis: 'Submit one unseal key share (or a recovery share during seal migration).',
    fields: {
      key: { type: 'string', description: 'One unseal key share, hex or base64.', sensitive: true },
      reset: { type: 'bool', description: 'Discard the shares submitted so far.' },
      migrate: { type: 'bool', description: 'The share is for a seal migration.' },
    },
    operations: {
      update: async (req, f) => raw(await req.core.submitUnsealKey(f.getOk<string>('key'), f.get('reset'), f.get('migrate'))),
    },
  },
  {
    pattern: 'health',
    unauthenticated: true,
    synopsis: "The node's health as an HTTP status code, for load balancers.",
    fields: HEALTH_FIELDS,
    operations: {
      read: async (req, f) => {
        const { core } = req;
        const initialized = await core.isInitialized();
        const sealed = core.sealed;
        let status = statusCode(f.get('activecode'), 'activecode');
        if (!initialized) status = statusCode(f.get('uninitcode'), 'uninitcode');
        else if (sealed) status = statusCode(f.get('sealedcode'), 'sealedcode');
        else if (core.standby && !f.get('standbyok')) status = statusCode(f.get('standbycode'), 'standbycode');
        return raw({
          initialized,
          sealed,
          // Vault reports a sealed node as standby (it cannot be active).
          standby: sealed || core.standby,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: VERSION,
          cluster_name: sealed ? undefined : core.clusterName,
          cluster_id: sealed ? undefined : core.clusterId,
        }, status);
      },
    },
  },
  {
    pattern: 'leader',
    unauthenticated: true,
    synopsis: 'Whether HA is enabled and which node is the leader.',
    operations: { read: async ({ core }) => raw(await leaderStatus(core)) },
  },
  {
    pattern: 'seal-backend-status',
    unauthenticated: true,
    synopsis: "The seal's health: whether the HSM answers, and since when it does not.",
    operations: {
      read: async (req) => {
        const { core } = req;
        const health = core.hsm?.health() ?? { healthy: true };
        const since = health.unhealthySince ? { unhealthy_since: health.unhealthySince } : {};
        const backends = core.hsm?.backends?.() ?? [{ name: core.sealType, type: core.sealType, priority: 1, healthy: health.healthy, ...since, ...core.hsm?.keyInfo().details }];
        // Where the keys live (library, token and key labels) only for a token that may read this path:
        // the endpoint itself needs no token, as in Vault.
        const shown = (await mayReadSealDetails(req)) ? backends : backends.map(vaultBackendFields);
        return raw({ healthy: health.healthy, ...since, backends: shown });
      },
    },
  },
  {
    pattern: 'seal',
    sudo: true,
    synopsis: 'Seal the server: drop the root key from memory until the next unseal.',
    operations: {
      update: async (req) => {
        await req.core.seal();
        return noContent();
      },
    },
  },
  {
    pattern: 'rotate',
    sudo: true,
    synopsis: 'Add a new barrier encryption key; older keys stay for decryption.',
    operations: {
      update: async ({ core }) => {
        await core.barrier.rotate();
        core.logger.info(`core: rotated the barrier key to term ${core.barrier.keyStatus().term}`);
        return noContent();
      },
    },
  },
  {
    pattern: 'key-status',
    synopsis: "The barrier key's term, install time and encryption count.",
    operations: {
      read: async ({ core }) => {
        const s = core.barrier.keyStatus();
        return sysData({ term: s.term, install_time: s.installTime.toISOString(), encryptions: s.encryptions });
      },
    },
  },
  {
    pattern: 'rotate/config',
    sudo: true,
    synopsis: 'When the barrier key is rotated automatically: after a number of encryptions or an interval.',
    fields: {
      max_operations: { type: 'int', description: 'Encryptions after which the key is rotated (1000000 to 3865470566).' },
      interval: { type: 'duration', description: 'Time after which the key is rotated; 0 disables, else at least 24h.' },
      enabled: { type: 'bool', description: 'Automatic rotation is always enabled.' },
    },
    operations: {
      read: async ({ core }) => {
        const c = core.barrier.rotationConfig();
        return sysData({ max_operations: c.maxOperations, interval: c.interval, enabled: true });
      },
      update: async (req, f) => {
        const { core } = req;
        const current = core.barrier.rotationConfig();
        const maxOperations = f.getOk<number>('max_operations') ?? current.maxOperations;
        // Vault bounds this to the NIST limit and a sane floor.
        if (maxOperations < 1_000_000 || maxOperations > 3_865_470_566) {
          throw badRequest('max_operations must be an integer between 1000000 and 3865470566');
        }
        const interval = f.getOk<number>('interval') ?? current.interval;
        if (interval !== 0 && interval < 24 * 3600) throw badRequest('interval must be 0 (disabled) or at least 24h');
        await core.barrier.setRotationConfig({ maxOperations, interval });
        return noContent();
      },
    },
  },
];

async function mayReadSealDetails(req: SysRequest): Promise<boolean> {
  const caps = (await callerAcl(req))?.capabilities('sys/seal-backend-status') ?? [];
  return caps.includes('root') || caps.includes('read');
}

/** A seal-backend-status entry with only the fields Vault returns. */
function vaultBackendFields(b: SealBackendStatus): SealBackendStatus {
  const { name, type, priority, healthy, unhealthy_since } = b;
  return { name, type, priority, healthy, ...(unhealthy_since ? { unhealthy_since } : {}) };
}
