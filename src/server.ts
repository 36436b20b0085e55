import { writeFileSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type ServerConfig, type Pkcs11SealConfig as ConfigPkcs11, type SealConfig, type TransitSealConfig } from './config/config.ts';
import { defaultListener } from './config/stanzas.ts';
import { createStorage } from './storage/index.ts';
import { EtcdBackend } from './storage/etcd.ts';
import { HaCoordinator } from './core/ha/coordinator.ts';
import type { StorageBackend } from './storage/backend.ts';
import { Core } from './core/core.ts';
import { TresorError } from './core/errors.ts';
import { createHttpServer } from './http/server.ts';
import { listen } from './http/listener.ts';
import { createServerLogger, type Logger, type LogLevel } from './logger.ts';
import { ConfigError } from './config/errors.ts';
import { runReloadHooks, runShutdownHooks } from './lifecycle-hooks.ts';

/** How long SIGTERM/SIGINT lets requests in flight finish before closing their connections. */
const SHUTDOWN_DRAIN_MS = 10_000;
import { setCoreProbe, setPrometheusDefault } from './metrics.ts';
import { OpeningSeal } from './seal/opening-seal.ts';
import type { SealWrapper } from './seal/seal.ts';
import { MultiSeal, type MultiSealMember } from './seal/multiseal.ts';

export interface RunServerOptions {
  configPaths: string[];
  dev: boolean;
  devRootTokenId?: string;
  devListenAddress?: string;
  /** -log-level / -log-format: over VAULT_LOG_LEVEL / VAULT_LOG_FORMAT, over the config. */
  logLevel?: string;
  logFormat?: string;
  /** Where the banner goes (tests capture it); default stdout. */
  out?: (text: string) => void;
}

export interface RunningServer {
  core: Core;
  http: FastifyInstance;
  address: string;
  stop(): Promise<void>;
}

/** PKCS#11 codes that mean "the device is not there yet", worth retrying at start-up. */
const TRANSIENT_HSM_CODES = new Set([
  'CKR_GENERAL_ERROR',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_FUNCTION_FAILED',
]);

/**
 * The seal marks configuration mistakes (unknown token_label or slot, wrong
 * PIN) with status 500 even when their code is one that could mean "not there
 * yet" (CKR_TOKEN_NOT_PRESENT): those stop the server instead of retrying.
 */
function isTransientHsmError(err: unknown): boolean {
  const { ckr, status } = err as { ckr?: unknown; status?: unknown };
  return typeof ckr === 'string' && TRANSIENT_HSM_CODES.has(ckr) && status !== 500;
}

async function openHsmSeal(cfg: ConfigPkcs11, logger: Logger): Promise<SealWrapper> {
  // Loaded lazily so a server without an HSM never loads the native module.
  const { Pkcs11Seal } = await import('./seal/pkcs11/pkcs11-seal.ts');
  return Pkcs11Seal.open(cfg, {
    logger: { info: logger.info, warn: logger.warn, error: logger.error, debug: logger.debug } as never,
    heartbeatIntervalMs: heartbeatFromEnv(process.env),
  });
}

async function openTransitSeal(cfg: TransitSealConfig, logger: Logger): Promise<SealWrapper> {
  const { TransitSeal } = await import('./seal/transit.ts');
  return TransitSeal.open(cfg, { logger: { info: logger.info, warn: logger.warn } as never, heartbeatIntervalMs: heartbeatFromEnv(process.env) });
}

/** An auto-unseal seal (pkcs11 or transit) that keeps trying to open while its device or peer is unreachable. */
async function openingSeal(cfg: SealConfig, logger: Logger): Promise<OpeningSeal | undefined> {
  if (cfg.type === 'pkcs11') return new OpeningSeal('pkcs11', () => openHsmSeal(cfg, logger), isTransientHsmError, logger);
  if (cfg.type === 'transit') {
    const { isTransientTransitError } = await import('./seal/transit.ts');
    return new OpeningSeal('transit', () => openTransitSeal(cfg, logger), isTransientTransitError, logger);
  }
  return undefined;
}

/** enable_multiseal: every enabled stanza opened on its own, behind one MultiSeal. */
async function openMultiseal(seals: SealConfig[], logger: Logger): Promise<MultiSeal> {
  const { sealName } = await import('./config/seal.ts');
  const members: MultiSealMember[] = [];
  for (const cfg of seals) {
    if (cfg.disabled || cfg.type === 'shamir') continue;
    const seal = (await openingSeal(cfg, logger))!;
    members.push({ name: sealName(cfg), type: cfg.type, priority: cfg.priority ?? members.length + 1, seal });
  }
  return new MultiSeal(members, logger);
}

/**
 * `TRESOR_HSM_HEARTBEAT_MS`: the HSM heartbeat period in milliseconds
 * (positive integer; default 10 000). Integration tests shorten it to see a
 * lost token reported within a second or two.
 */
function heartbeatFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.TRESOR_HSM_HEARTBEAT_MS?.trim();
  if (!raw) return undefined;
  if (!/^[1-9]\d*$/.test(raw)) throw new TresorError(400, 'environment variable TRESOR_HSM_HEARTBEAT_MS must be a positive integer (milliseconds)');
  return Number(raw);
}

/** Starts the server described by the config files (or `-dev`) and serves until SIGINT/SIGTERM. */
export async function runServer(opts: RunServerOptions): Promise<RunningServer> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const config: ServerConfig = opts.dev && opts.configPaths.length === 0 ? devConfig() : loadConfig(opts.configPaths, process.env, { dev: opts.dev });
  if (opts.dev) applyDevDefaults(config, opts.devListenAddress);
  applyLogOverrides(config, opts, process.env);
  const logger = createServerLogger({ level: config.logLevel, format: config.logFormat ?? (opts.dev ? 'standard' : 'json'), file: config.logFile });

  const storageCfg = config.storage ?? { type: 'inmem' as const, options: {} };
  const physical: StorageBackend = createStorage(storageCfg.type, storageCfg.options);
  const ha = await haFor(physical, config, logger);
  const activeSeal = config.seals.find((s) => !s.disabled);
  const hsmCfg = activeSeal && activeSeal.type !== 'shamir' ? activeSeal : undefined;
  if (config.entropy && hsmCfg?.type !== 'pkcs11') throw new TresorError(400, 'entropy "seal" requires a pkcs11 seal stanza');

  const hsm = config.enableMultiseal ? await openMultiseal(config.seals, logger) : hsmCfg ? await openingSeal(hsmCfg, logger) : undefined;
  // A disabled auto-unseal stanza beside no enabled one: the source of a migration to Shamir.
  const oldHsmCfg = hsmCfg ? undefined : config.seals.find((s) => s.disabled && s.type !== 'shamir');
  const oldHsm = oldHsmCfg ? await openingSeal(oldHsmCfg, logger) : undefined;
  const core = new Core({
    physical,
    storageType: storageCfg.type,
    hsm,
    migrationSource: oldHsm,
    entropyAugmentation: Boolean(config.entropy),
    clusterName: config.clusterName,
    logger,
    // An audit file may not be written inside Tresor's own storage or plugin directories.
    auditForbiddenDirs: [(storageCfg.options as Record<string, string>).path, config.pluginDirectory].filter((d): d is string => Boolean(d)),
    ha,
    kmsLibraries: config.kmsLibraries,
  });
  try {
    core.managedKeys.loadLibraries();
  } catch (err) {
    await hsm?.close().catch(() => {});
    await physical.close();
    throw err;
  }

  setPrometheusDefault((config.telemetry?.prometheusRetentionTime ?? 0) > 0);
  setCoreProbe(() => ({ sealed: core.sealed, active: !core.sealed }));

  // "Started" is said only once the seal has answered: a wrong PIN or library stops here with its error alone.
  if (hsm) {
    try {
      await hsm.firstOutcome;
    } catch (err) {
      await hsm.close().catch(() => {});
      await physical.close();
      throw new TresorError(500, `Error initializing seal of type ${hsm.type}: ${(err as Error).message}`);
    }
  }

  const listener = config.listeners[0];
  const http = createHttpServer(core, {
    logger,
    ui: config.ui,
    maxRequestSize: listener.maxRequestSize,
    disableUnauthedRekeyEndpoints: listener.disableUnauthedRekeyEndpoints,
    disableUnauthedGenerateRootEndpoints: listener.disableUnauthedGenerateRootEndpoints,
    disableForwarding: config.disableForwarding,
    unauthenticatedMetricsAccess: listener.unauthenticatedMetricsAccess,
  });
  const [host, portText] = splitHostPort(listener.address);
  const tcp = await listen(http, {
    host,
    port: Number(portText),
    tls: listener.tlsDisable ? undefined : { certFile: listener.tlsCertFile!, keyFile: listener.tlsKeyFile! },
    readHeaderTimeoutMs: listener.readHeaderTimeoutMs,
    readTimeoutMs: listener.readTimeoutMs,
    writeTimeoutMs: listener.writeTimeoutMs,
    idleTimeoutMs: listener.idleTimeoutMs,
    maxConnections: listener.maxConnections,
    logger,
  });
  const port = tcp.port;
  const scheme = listener.tlsDisable ? 'http' : 'https';
  const address = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  ha?.setAddresses(config.apiAddr ?? address, config.clusterAddr ?? '');
  if (config.pidFile) writeFileSync(config.pidFile, String(process.pid));

  out(
    [
      '==> Tresor server configuration:',
      '',
      `             Api Address: ${config.apiAddr ?? address}`,
      `               Listener 1: tcp (addr: "${host}:${port}", max_request_size: "${listener.maxRequestSize}", tls: "${listener.tlsDisable ? 'disabled' : 'enabled'}")`,
      `                Log Level: ${config.logLevel}`,
      `                Seal Type: ${hsm ? hsm.type : 'shamir'}`,
      `                  Storage: ${storageCfg.type}${ha ? ' (HA available)' : ''}`,
      `                  Version: Tresor ${(await import('./core/core.ts')).VERSION}`,
      '',
      '==> Tresor server started! Log data will stream in below:',
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Stop accepting, let requests in flight finish (an acknowledged write is on disk), then hooks, seal, HSM.
    await tcp.close(SHUTDOWN_DRAIN_MS);
    await runShutdownHooks(logger.warn);
    await core.shutdown();
    await core.managedKeys.close();
    await hsm?.close();
    await oldHsm?.close();
    await physical.close();
    if (config.pidFile) rmSync(config.pidFile, { force: true });
  };

  if (opts.dev) await devInitialise(core, opts.devRootTokenId, address, out);
  if (hsm) void autoUnsealLoop(core, hsm, logger, () => stopping);

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      logger.info(`server: ${sig} received, shutting down`);
      stop().then(
        () => {
          logger.info('server: shutdown complete');
          logger.flush();
          process.exit(0);
        },
        (err) => {
          logger.error(`server: shutdown failed: ${(err as Error).message}`);
          logger.flush();
          process.exit(1);
        },
      );
    });
  }
  // SIGHUP: re-read log_level from the config files (flags and env still win), then the reload hooks.
  process.on('SIGHUP', () => {
    try {
      if (opts.configPaths.length > 0) {
        const fresh = loadConfig(opts.configPaths, process.env, { dev: opts.dev });
        applyLogOverrides(fresh, opts, process.env);
        if (fresh.logLevel !== logger.level) {
          logger.setLevel(fresh.logLevel);
          logger.info(`server: SIGHUP: log level is now ${fresh.logLevel}`);
        } else logger.info('server: SIGHUP: reloaded');
      }
    } catch (err) {
      logger.error(`server: SIGHUP: cannot reload the configuration: ${(err as Error).message}`);
    }
    void runReloadHooks(logger.warn);
    // logrotate: the audit files and sockets are opened again.
    void core.audit.reopen();
  });
  return { core, http, address, stop };
}

/**
 * Unseals through the HSM whenever the server is initialised and sealed,
 * retrying with backoff while the HSM cannot answer. A configuration mistake
 * found while opening the seal stops the process with its message.
 */
async function autoUnsealLoop(core: Core, hsm: OpeningSeal | MultiSeal, logger: Logger, stopped: () => boolean): Promise<void> {
  try {
    await hsm.ready;
  } catch (err) {
    logger.error(`seal: cannot open the ${hsm.type} seal: ${(err as Error).message}`);
    process.stderr.write(`Error initializing seal of type ${hsm.type}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let delay = 500;
  while (!stopped()) {
    try {
      if (await core.autoUnseal()) logger.info(hsm.type === 'pkcs11' ? 'core: auto-unsealed through the HSM' : `core: auto-unsealed through the ${hsm.type} seal`);
      return;
    } catch (err) {
      logger.warn(`core: auto-unseal failed: ${(err as Error).message}; retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** HA on etcd when the storage stanza says ha_enabled. */
async function haFor(physical: StorageBackend, config: ServerConfig, logger: Logger): Promise<HaCoordinator | undefined> {
  if (!(physical instanceof EtcdBackend) || !physical.haEnabled) return undefined;
  const { VERSION } = await import('./core/core.ts');
  return new HaCoordinator({
    backend: physical,
    apiAddr: config.apiAddr ?? '',
    clusterAddr: config.clusterAddr ?? '',
    version: VERSION,
    logger,
    stepDownWaitMs: stepDownWaitFromEnv(process.env),
  });
}

/** `TRESOR_HA_STEP_DOWN_WAIT_MS`: how long a node that stepped down waits before campaigning again (default 10 000). */
function stepDownWaitFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.TRESOR_HA_STEP_DOWN_WAIT_MS?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw)) throw new TresorError(400, 'environment variable TRESOR_HA_STEP_DOWN_WAIT_MS must be a non-negative integer (milliseconds)');
  return Number(raw);
}

const LOG_LEVEL_NAMES: Record<string, LogLevel> = { trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', err: 'error', error: 'error' };

/** -log-level/-log-format over VAULT_LOG_LEVEL/VAULT_LOG_FORMAT over the config file, as Vault orders them. */
function applyLogOverrides(config: ServerConfig, opts: RunServerOptions, env: NodeJS.ProcessEnv): void {
  const level = opts.logLevel ?? (env.VAULT_LOG_LEVEL || undefined);
  if (level !== undefined) {
    const parsed = LOG_LEVEL_NAMES[level.toLowerCase()];
    if (!parsed) throw new ConfigError('log level must be one of trace, debug, info, warn, error');
    config.logLevel = parsed;
  }
  const format = opts.logFormat ?? (env.VAULT_LOG_FORMAT || undefined);
  if (format !== undefined) {
    if (format !== 'json' && format !== 'standard') throw new ConfigError('log format must be "json" or "standard"');
    config.logFormat = format;
  }
}

function devConfig(): ServerConfig {
  return {
    listeners: [],
    seals: [],
    kmsLibraries: [],
    ui: false,
    disableMlock: true,
    logLevel: 'info',
    defaultLeaseTtl: 768 * 3600,
    maxLeaseTtl: 768 * 3600,
  };
}

function applyDevDefaults(config: ServerConfig, listenAddress?: string): void {
  config.ui = true; // as Vault's -dev
  config.storage ??= { type: 'inmem', options: {}, source: { file: '-dev', line: 0 } };
  const address = listenAddress ?? '127.0.0.1:8200';
  if (listenAddress || config.listeners.length === 0) {
    config.listeners = [defaultListener(address, { file: '-dev', line: 0 })];
  }
}

/** `-dev`: initialise with one share, unseal, mount kv-v2 at secret/, print the credentials. */
async function devInitialise(core: Core, rootTokenId: string | undefined, address: string, out: (t: string) => void): Promise<void> {
  const init = core.hsm
    ? await core.initialize({ recovery_shares: 1, recovery_threshold: 1 })
    : await core.initialize({ secret_shares: 1, secret_threshold: 1 });
  if (!core.hsm) await core.submitUnsealKey(init.keys_base64[0], false);
  const state = core.unsealed();
  let rootToken = init.root_token;
  if (rootTokenId) {
    const custom = await state.tokens.createRoot({ id: rootTokenId });
    const initial = await state.tokens.lookup(init.root_token);
    if (initial) await state.tokens.revokeTree(initial.id);
    rootToken = custom.token;
  }
  await state.mounts.mount({
    path: 'secret/',
    type: 'kv',
    description: 'key/value secret storage',
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    options: { version: '2' },
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    table: 'secret',
  });
  const unsealKey = init.keys_base64[0] ?? init.recovery_keys_base64?.[0] ?? '';
  out(
    [
      'WARNING! dev mode is enabled! In this mode, Tresor runs entirely in-memory',
      'and starts unsealed with a single unseal key.',
      '',
      'You may need to set the following environment variables:',
      '',
      `    $ export TRESOR_ADDR='${address}'`,
      '',
      'The unseal key and root token are displayed below in case you want to',
      'seal/unseal the server or re-authenticate.',
      '',
      `${core.hsm ? 'Recovery Key' : 'Unseal Key'}: ${unsealKey}`,
      `Root Token: ${rootToken}`,
      '',
      'Development mode should NOT be used in production installations!',
      '',
    ].join('\n') + '\n',
  );
}

function splitHostPort(address: string): [string, string] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new TresorError(400, `listener address "${address}" must be host:port`);
  return [m[1], m[2]];
}
