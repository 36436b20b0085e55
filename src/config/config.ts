/**
 * Server configuration: Vault-compatible HCL or JSON files, merged in order,
 * with VAULT_HSM_* environment overrides for the pkcs11 seal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.ts';
import { BodyReader, HclError, collectBlocks, parseDocument, type DecodedBlock, type HclBody } from './hcl.ts';
import { applySealEnvironment, checkSealSet, finishSeal, readSealBlock, type SealDraft } from './seal.ts';
import { readEntropy, readKmsLibrary, readListener, readStorage, readTelemetry } from './stanzas.ts';
import type { ConfigSource, EntropyConfig, KmsLibraryConfig, ListenerConfig, LogLevel, ServerConfig, StorageConfig, TelemetryConfig } from './types.ts';

export { ConfigError } from './errors.ts';
export { parseDuration } from './duration.ts';
export type * from './types.ts';

export interface ConfigOptions {
  /** Dev mode: a missing storage stanza is fine (the caller uses inmem). */
  dev?: boolean;
}

/** One file's contribution before merging; unset scalars stay undefined. */
interface ConfigLayer {
  storage?: StorageConfig;
  listeners: ListenerConfig[];
  seals: SealDraft[];
  entropy?: EntropyConfig;
  kmsLibraries: KmsLibraryConfig[];
  telemetry?: TelemetryConfig;
  scalars: Partial<Omit<ServerConfig, 'storage' | 'listeners' | 'seals' | 'entropy' | 'kmsLibraries' | 'telemetry'>>;
}

const DEFAULT_LEASE_TTL = 768 * 3600;
const STANZAS = ['storage', 'backend', 'listener', 'seal', 'entropy', 'kms_library', 'telemetry'];
const STRING_KEYS = {
  api_addr: 'apiAddr',
  cluster_addr: 'clusterAddr',
  cluster_name: 'clusterName',
  pid_file: 'pidFile',
  plugin_directory: 'pluginDirectory',
  log_file: 'logFile',
} as const;
const BOOLEAN_KEYS = { ui: 'ui', disable_mlock: 'disableMlock', disable_forwarding: 'disableForwarding', enable_multiseal: 'enableMultiseal' } as const;
const DURATION_KEYS = { default_lease_ttl: 'defaultLeaseTtl', max_lease_ttl: 'maxLeaseTtl' } as const;
const LOG_LEVELS: Record<string, LogLevel> = {
  trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', err: 'error', error: 'error',
};
const TOP_LEVEL_KEYS = [...Object.keys(STRING_KEYS), ...Object.keys(BOOLEAN_KEYS), ...Object.keys(DURATION_KEYS), 'log_level', 'log_format'];

/**
 * Parses one configuration text (HCL, or JSON when `fileName` ends in .json
 * or the text starts with `{`) and applies the environment. Throws
 * ConfigError `<file>:<line>: <problem>`.
 */
export function parseConfig(text: string, fileName: string, env: NodeJS.ProcessEnv = process.env, options: ConfigOptions = {}): ServerConfig {
  return finish(parseLayer(text, fileName), env, options);
}

/**
 * Loads files and directories (their `.hcl` and `.json` files, in name
 * order) and merges them in order, as Vault does: later storage, entropy
 * and scalar settings replace earlier ones; listeners and seals accumulate.
 */
export function loadConfig(paths: string[], env: NodeJS.ProcessEnv = process.env, options: ConfigOptions = {}): ServerConfig {
  if (paths.length === 0) throw new ConfigError('no configuration files given');
  const layers = expandPaths(paths).map((file) => parseLayer(readConfigFile(file), file));
  return finish(layers.reduce(mergeLayers), env, options);
}

function expandPaths(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new ConfigError(`cannot read configuration "${p}": no such file or directory`);
    }
    if (!stat.isDirectory()) return [p];
    return fs
      .readdirSync(p)
      .filter((name) => /\.(hcl|json)$/.test(name))
      .sort()
      .map((name) => path.join(p, name))
      .filter((file) => fs.statSync(file).isFile());
  });
}

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration "${file}": ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
}

function parseLayer(text: string, fileName: string): ConfigLayer {
  try {
    const format = fileName.endsWith('.json') ? 'json' : fileName.endsWith('.hcl') ? 'hcl' : undefined;
    return readLayer(parseDocument(text, format), fileName);
  } catch (err) {
    if (err instanceof HclError) throw new ConfigError(err.message, fileName, err.line);
    throw err;
  }
}

function readLayer(body: HclBody, file: string): ConfigLayer {
  const reader = new BodyReader(body, '');
  for (const item of body.items) {
    const key = item.kind === 'block' ? item.type : item.key;
    const isStanza = item.kind === 'block' || item.value.kind === 'object';
    const known = STANZAS.includes(key) || (!isStanza && TOP_LEVEL_KEYS.includes(key));
    if (!known) {
      throw reader.error(`unknown ${isStanza ? 'stanza' : 'key'} "${key}"`, item);
    }
  }
  const source = (block: DecodedBlock): ConfigSource => ({ file, line: block.line });
  const storageBlocks = [...collectBlocks(body, 'storage', 1), ...collectBlocks(body, 'backend', 1)];
  if (storageBlocks.length > 1) throw reader.error('only one storage stanza is allowed', storageBlocks[1]);
  const entropyBlocks = collectBlocks(body, 'entropy', 1);
  if (entropyBlocks.length > 1) throw reader.error('only one entropy stanza is allowed', entropyBlocks[1]);
  const telemetryBlocks = collectBlocks(body, 'telemetry', 0);
  if (telemetryBlocks.length > 1) throw reader.error('only one telemetry stanza is allowed', telemetryBlocks[1]);
  return {
    storage: storageBlocks.map((b) => readStorage(b, source(b)))[0],
    listeners: collectBlocks(body, 'listener', 1).map((b) => readListener(b, source(b))),
    seals: collectBlocks(body, 'seal', 1).map((b) => readSealBlock(b, source(b))),
    entropy: entropyBlocks.map((b) => readEntropy(b, source(b)))[0],
    kmsLibraries: collectBlocks(body, 'kms_library', 1).map((b) => readKmsLibrary(b, source(b))),
    telemetry: telemetryBlocks.map((b) => readTelemetry(b, source(b)))[0],
    scalars: readScalars(reader),
  };
}

function readScalars(reader: BodyReader): ConfigLayer['scalars'] {
  const scalars: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(STRING_KEYS)) scalars[prop] = reader.string(key);
  for (const [key, prop] of Object.entries(BOOLEAN_KEYS)) scalars[prop] = reader.bool(key);
  for (const [key, prop] of Object.entries(DURATION_KEYS)) scalars[prop] = reader.duration(key);
  const logLevel = reader.string('log_level');
  if (logLevel !== undefined) {
    scalars.logLevel = LOG_LEVELS[logLevel.toLowerCase()];
    if (!scalars.logLevel) throw reader.error('key "log_level" must be one of trace, debug, info, warn, error', reader.attribute('log_level'));
  }
  const logFormat = reader.string('log_format');
  if (logFormat !== undefined) {
    if (logFormat !== 'json' && logFormat !== 'standard') throw reader.error('key "log_format" must be "json" or "standard"', reader.attribute('log_format'));
    scalars.logFormat = logFormat;
  }
  return Object.fromEntries(Object.entries(scalars).filter(([, v]) => v !== undefined)) as ConfigLayer['scalars'];
}

function mergeLayers(earlier: ConfigLayer, later: ConfigLayer): ConfigLayer {
  return {
    storage: later.storage ?? earlier.storage,
    listeners: [...earlier.listeners, ...later.listeners],
    seals: [...earlier.seals, ...later.seals],
    entropy: later.entropy ?? earlier.entropy,
    kmsLibraries: [...earlier.kmsLibraries, ...later.kmsLibraries],
    telemetry: later.telemetry ?? earlier.telemetry,
    scalars: { ...earlier.scalars, ...later.scalars },
  };
}

function finish(layer: ConfigLayer, env: NodeJS.ProcessEnv, options: ConfigOptions): ServerConfig {
  if (!layer.storage && !options.dev) throw new ConfigError('no storage stanza: add storage "file" { path = "..." } (or run in dev mode)');
  const seals = applySealEnvironment(layer.seals, env).map(finishSeal);
  checkSealSet(seals, layer.scalars.enableMultiseal ?? false);
  if (layer.entropy && !seals.some((s) => s.type === 'pkcs11' && !s.disabled)) {
    throw new ConfigError('entropy "seal" needs an enabled pkcs11 seal', layer.entropy.source.file, layer.entropy.source.line);
  }
  const libraryNames = new Set<string>();
  for (const lib of layer.kmsLibraries) {
    if (libraryNames.has(lib.name)) throw new ConfigError(`kms_library "pkcs11": duplicate name "${lib.name}"`, lib.source.file, lib.source.line);
    libraryNames.add(lib.name);
  }
  const config: ServerConfig = {
    ui: false,
    disableMlock: false,
    logLevel: 'info',
    defaultLeaseTtl: DEFAULT_LEASE_TTL,
    maxLeaseTtl: DEFAULT_LEASE_TTL,
    ...layer.scalars,
    storage: layer.storage,
    listeners: layer.listeners,
    seals,
    entropy: layer.entropy,
    kmsLibraries: layer.kmsLibraries,
    ...(layer.telemetry ? { telemetry: layer.telemetry } : {}),
  };
  if (config.defaultLeaseTtl > config.maxLeaseTtl) throw new ConfigError('default_lease_ttl must not be greater than max_lease_ttl');
  return config;
}
