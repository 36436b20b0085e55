import type { SysRoute } from '../sys-routes.ts';
import { sysData } from '../sys-routes.ts';
import { badRequest } from '../../core/errors.ts';
import { VERSION } from '../../core/core.ts';
import { durationSeconds, optionalBool } from '../../core/request-fields.ts';

/** init, seal, unseal, status, health, rotation: the endpoints of issue "core". */
export const lifecycleRoutes: SysRoute[] = [
  {
    pattern: 'sys/init',
    public: true,
    methods: {
      GET: async ({ core }) => ({ body: { initialized: await core.isInitialized() } }),
      PUT: async ({ core, data }) => ({ body: await core.initialize(data) }),
    },
  },
  {
    pattern: 'sys/seal-status',
    public: true,
    methods: { GET: async ({ core }) => ({ body: await core.sealStatus() }) },
  },
  {
    pattern: 'sys/unseal',
    public: true,
    methods: {
      PUT: async ({ core, data }) => {
        const reset = optionalBool(data.reset, 'reset') ?? false;
        const migrate = optionalBool(data.migrate, 'migrate') ?? false;
        if (data.key !== undefined && typeof data.key !== 'string') throw badRequest("'key' must be a string");
        return { body: await core.submitUnsealKey(data.key as string | undefined, reset, migrate) };
      },
    },
  },
  {
    pattern: 'sys/health',
    public: true,
    methods: {
      GET: async ({ core, query }) => {
        const initialized = await core.isInitialized();
        const sealed = core.sealed;
        const codeFrom = (name: string, dflt: number) => {
          const v = query.get(name);
          if (v === null) return dflt;
          const n = Number(v);
          if (!Number.isInteger(n) || n < 100 || n > 599) throw badRequest(`${name} must be an HTTP status code`);
          return n;
        };
        let status = codeFrom('activecode', 200);
        if (!initialized) status = codeFrom('uninitcode', 501);
        else if (sealed) status = codeFrom('sealedcode', 503);
        const body = {
          initialized,
          sealed,
          // Vault reports a sealed node as standby (it cannot be active).
          standby: sealed,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: VERSION,
          cluster_name: sealed ? undefined : core.clusterName,
          cluster_id: sealed ? undefined : core.clusterId,
        };
        return { status, body };
      },
    },
  },
  {
    pattern: 'sys/leader',
    public: true,
    methods: {
      GET: async ({ core }) => ({
        body: {
          ha_enabled: false,
          // Vault answers false without HA.
          is_self: false,
          active_time: '0001-01-01T00:00:00Z',
          leader_address: '',
          leader_cluster_address: '',
          performance_standby: false,
          performance_standby_last_remote_wal: 0,
        },
      }),
    },
  },
  {
    pattern: 'sys/seal-backend-status',
    public: true,
    methods: {
      GET: async ({ core }) => {
        const health = core.hsm?.health() ?? { healthy: true };
        const backend = {
          name: core.sealType,
          healthy: health.healthy,
          ...(health.unhealthySince ? { unhealthy_since: health.unhealthySince } : {}),
        };
        return { body: { healthy: health.healthy, ...(health.unhealthySince ? { unhealthy_since: health.unhealthySince } : {}), backends: [backend] } };
      },
    },
  },
  {
    pattern: 'sys/seal',
    sudo: true,
    methods: {
      PUT: async ({ core }) => {
        await core.seal();
        return {};
      },
    },
  },
  {
    pattern: 'sys/step-down',
    sudo: true,
    // A single node is always the active one: nothing to step down to.
    methods: { PUT: async () => ({}) },
  },
  {
    pattern: 'sys/rotate',
    sudo: true,
    methods: {
      PUT: async ({ core }) => {
        await core.barrier.rotate();
        core.logger.info(`core: rotated the barrier key to term ${core.barrier.keyStatus().term}`);
        return {};
      },
    },
  },
  {
    pattern: 'sys/key-status',
    methods: {
      GET: async ({ core }) => {
        const s = core.barrier.keyStatus();
        return sysData({ term: s.term, install_time: s.installTime.toISOString(), encryptions: s.encryptions });
      },
    },
  },
  {
    pattern: 'sys/rotate/config',
    sudo: true,
    methods: {
      GET: async ({ core }) => {
        const c = core.barrier.rotationConfig();
        return sysData({ max_operations: c.maxOperations, interval: c.interval, enabled: true });
      },
      PUT: async ({ core, data }) => {
        const current = core.barrier.rotationConfig();
        let maxOperations = current.maxOperations;
        if (data.max_operations !== undefined) {
          const n = Number(data.max_operations);
          // Vault bounds this to the NIST limit and a sane floor.
          if (!Number.isInteger(n) || n < 1_000_000 || n > 3_865_470_566) {
            throw badRequest('max_operations must be an integer between 1000000 and 3865470566');
          }
          maxOperations = n;
        }
        const interval = data.interval !== undefined ? durationSeconds(data.interval, 'interval') : current.interval;
        if (interval !== 0 && interval < 24 * 3600) throw badRequest('interval must be 0 (disabled) or at least 24h');
        await core.barrier.setRotationConfig({ maxOperations, interval });
        return {};
      },
    },
  },
];
