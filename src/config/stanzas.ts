/** Readers for the `storage`, `listener` and `entropy` stanzas. */
import { BodyReader, collectBlocks, type DecodedBlock } from './hcl.ts';
import { ETCD_OPTION_KEYS } from '../storage/etcd-options.ts';
import type { ConfigSource, EntropyConfig, KmsLibraryConfig, ListenerConfig, StorageConfig, StorageType, TelemetryConfig } from './types.ts';

/** Allowed option keys per storage type (all kept as strings). */
const STORAGE_OPTIONS: Record<StorageType, readonly string[]> = {
  file: ['path'],
  inmem: [],
  etcd: ETCD_OPTION_KEYS,
};
const REQUIRED_STORAGE_OPTIONS: Partial<Record<StorageType, readonly string[]>> = { file: ['path'] };
const BOOLEAN_STORAGE_OPTIONS = new Set<string>();

export const DEFAULT_LISTENER_ADDRESS = '127.0.0.1:8200';
export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;
/** Vault's listener timeouts (http_read_header_timeout etc.), in milliseconds; 0 turns one off. */
export const DEFAULT_READ_HEADER_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_TIMEOUT_MS = 30_000;
export const DEFAULT_WRITE_TIMEOUT_MS = 0;
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const LISTENER_KEYS = [
  'address',
  'tls_disable',
  'tls_cert_file',
  'tls_key_file',
  'max_request_size',
  'disable_unauthed_rekey_endpoints',
  'disable_unauthed_generate_root_endpoints',
  'http_read_header_timeout',
  'http_read_timeout',
  'http_write_timeout',
  'http_idle_timeout',
  'max_connections',
  'telemetry',
];

/** A listener with every default applied (also dev mode's). */
export function defaultListener(address: string, source: ConfigSource): ListenerConfig {
  return {
    type: 'tcp',
    address,
    tlsDisable: true,
    maxRequestSize: DEFAULT_MAX_REQUEST_SIZE,
    readHeaderTimeoutMs: DEFAULT_READ_HEADER_TIMEOUT_MS,
    readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
    writeTimeoutMs: DEFAULT_WRITE_TIMEOUT_MS,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    disableUnauthedRekeyEndpoints: false,
    disableUnauthedGenerateRootEndpoints: false,
    unauthenticatedMetricsAccess: false,
    source,
  };
}

/** `storage "<type>" { ... }` (also spelled `backend`); throws HclDecodeError. */
export function readStorage(block: DecodedBlock, source: ConfigSource): StorageConfig {
  const type = block.labels[0];
  const reader = new BodyReader(block.body, `${block.type} "${type}"`, block);
  if (!(type in STORAGE_OPTIONS)) {
    throw reader.error(`unsupported storage type "${type}" (supported: ${Object.keys(STORAGE_OPTIONS).join(', ')})`);
  }
  const storageType = type as StorageType;
  reader.allowOnly(STORAGE_OPTIONS[storageType]);
  const options: Record<string, string> = {};
  for (const key of STORAGE_OPTIONS[storageType]) {
    const value = BOOLEAN_STORAGE_OPTIONS.has(key) ? reader.bool(key)?.toString() : reader.scalar(key);
    if (value !== undefined) options[key] = value;
  }
  for (const key of REQUIRED_STORAGE_OPTIONS[storageType] ?? []) reader.require(key, options[key] || undefined);
  return { type: storageType, options, source };
}

/** `listener "tcp" { ... }`; TLS files are required unless tls_disable. */
export function readListener(block: DecodedBlock, source: ConfigSource): ListenerConfig {
  const type = block.labels[0];
  const reader = new BodyReader(block.body, `listener "${type}"`, block);
  if (type !== 'tcp') throw reader.error(`unsupported listener type "${type}" (supported: tcp)`);
  reader.allowOnly(LISTENER_KEYS);
  const address = reader.string('address') ?? DEFAULT_LISTENER_ADDRESS;
  const port = /:(\d{1,5})$/.exec(address);
  if (!port || Number(port[1]) > 65535) throw reader.error('key "address" must be host:port', reader.attribute('address'));
  const tlsDisable = reader.bool('tls_disable') ?? false;
  const tlsCertFile = reader.string('tls_cert_file');
  const tlsKeyFile = reader.string('tls_key_file');
  if (!tlsDisable) {
    reader.require('tls_cert_file', tlsCertFile);
    reader.require('tls_key_file', tlsKeyFile);
  }
  const maxRequestSize = reader.integer('max_request_size') || DEFAULT_MAX_REQUEST_SIZE;
  // OpenBao's options; false (Vault's behaviour) unless set.
  const disableUnauthedRekeyEndpoints = reader.bool('disable_unauthed_rekey_endpoints') ?? false;
  const disableUnauthedGenerateRootEndpoints = reader.bool('disable_unauthed_generate_root_endpoints') ?? false;
  const telemetryBlocks = collectBlocks(block.body, 'telemetry', 0);
  if (telemetryBlocks.length > 1) throw reader.error('only one telemetry block is allowed in a listener', telemetryBlocks[1]);
  let unauthenticatedMetricsAccess = false;
  for (const t of telemetryBlocks) {
    const telemetry = new BodyReader(t.body, `listener "${type}" telemetry`, t);
    telemetry.allowOnly(['unauthenticated_metrics_access']);
    unauthenticatedMetricsAccess = telemetry.bool('unauthenticated_metrics_access') ?? false;
  }
  const maxConnections = reader.integer('max_connections');
  if (maxConnections === 0) throw reader.error('key "max_connections" must be at least 1', reader.attribute('max_connections'));
  return {
    type,
    address,
    tlsDisable,
    tlsCertFile,
    tlsKeyFile,
    maxRequestSize,
    disableUnauthedRekeyEndpoints,
    disableUnauthedGenerateRootEndpoints,
    unauthenticatedMetricsAccess,
    readHeaderTimeoutMs: reader.durationMs('http_read_header_timeout') ?? DEFAULT_READ_HEADER_TIMEOUT_MS,
    readTimeoutMs: reader.durationMs('http_read_timeout') ?? DEFAULT_READ_TIMEOUT_MS,
    writeTimeoutMs: reader.durationMs('http_write_timeout') ?? DEFAULT_WRITE_TIMEOUT_MS,
    idleTimeoutMs: reader.durationMs('http_idle_timeout') ?? DEFAULT_IDLE_TIMEOUT_MS,
    ...(maxConnections === undefined ? {} : { maxConnections }),
    source,
  };
}

/** `entropy "seal" { mode = "augmentation" }`. */
export function readEntropy(block: DecodedBlock, source: ConfigSource): EntropyConfig {
  const reader = new BodyReader(block.body, `entropy "${block.labels[0]}"`, block);
  if (block.labels[0] !== 'seal') throw reader.error(`unsupported entropy source "${block.labels[0]}" (supported: seal)`);
  reader.allowOnly(['mode']);
  const mode = reader.require('mode', reader.string('mode'));
  if (mode !== 'augmentation') throw reader.error('key "mode" must be "augmentation"', reader.attribute('mode'));
  return { mode, source };
}

/**
 * `kms_library "pkcs11" { name = "softhsm"  library = "/usr/lib/softhsm/libsofthsm2.so" }`
 * (Vault Enterprise's stanza): a PKCS#11 library that managed keys name. The
 * library must exist as a file; the server loads it at start-up.
 */
export function readKmsLibrary(block: DecodedBlock, source: ConfigSource): KmsLibraryConfig {
  const type = block.labels[0];
  const reader = new BodyReader(block.body, `kms_library "${type}"`, block);
  if (type !== 'pkcs11') throw reader.error(`unsupported kms_library type "${type}" (supported: pkcs11)`);
  reader.allowOnly(['name', 'library']);
  const name = reader.require('name', reader.string('name'));
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw reader.error('key "name" may hold only letters, digits, "_", "-" and "."', reader.attribute('name'));
  const library = reader.require('library', reader.string('library'));
  return { type: 'pkcs11', name: name.toLowerCase(), library, source };
}

/** Vault's `telemetry` keys Tresor accepts; the sinks it has no exporter for (statsd, circonus...) are refused as unknown. */
const TELEMETRY_KEYS = ['prometheus_retention_time', 'disable_hostname', 'enable_hostname_label', 'usage_gauge_period', 'maximum_gauge_cardinality'];

/** The top-level `telemetry { ... }` stanza. */
export function readTelemetry(block: DecodedBlock, source: ConfigSource): TelemetryConfig {
  const reader = new BodyReader(block.body, 'telemetry', block);
  reader.allowOnly(TELEMETRY_KEYS);
  reader.bool('disable_hostname');
  reader.bool('enable_hostname_label');
  reader.duration('usage_gauge_period');
  reader.integer('maximum_gauge_cardinality');
  return { prometheusRetentionTime: reader.duration('prometheus_retention_time') ?? 0, source };
}
