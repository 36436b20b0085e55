/** The server configuration as the rest of Tresor consumes it. */
import type { Pkcs11SealConfig as Pkcs11SealOptions } from '../seal/pkcs11/config.ts';
import type { TransitSealOptions } from '../seal/transit.ts';

/** Where a stanza came from, for later error messages. */
export interface ConfigSource {
  file: string;
  line: number;
}

/** The storage backends that exist. */
export type StorageType = 'file' | 'inmem' | 'etcd';

export interface StorageConfig {
  type: StorageType;
  /** Stanza options with Vault's key names, every value as a string. */
  options: Record<string, string>;
  source: ConfigSource;
}

export interface ListenerConfig {
  type: 'tcp';
  /** host:port, default 127.0.0.1:8200. */
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Bytes; default 33554432 (32 MiB). */
  maxRequestSize: number;
  /** Refuse sys/rekey/* and sys/rekey-recovery-key/* (not the sudo backup paths) on this listener; default false. */
  disableUnauthedRekeyEndpoints: boolean;
  /** Refuse sys/generate-root/* on this listener; default false. */
  disableUnauthedGenerateRootEndpoints: boolean;
  /** `http_read_header_timeout`: from a request's first byte (a connection's accept) to the end of its head; default 10 s. 0 = none. */
  readHeaderTimeoutMs: number;
  /** `http_read_timeout`: the same to the end of its body; default 30 s. 0 = none. */
  readTimeoutMs: number;
  /** `http_write_timeout`: from the end of the head to the end of the response; default 0 (none). */
  writeTimeoutMs: number;
  /** `http_idle_timeout`: a keep-alive connection's wait for its next request; default 5 min (0: read timeout, then header timeout). */
  idleTimeoutMs: number;
  /** `max_connections` (Tresor's own): open connections beyond which new ones are closed; default from the file-descriptor limit. */
  maxConnections?: number;
  /** `telemetry { unauthenticated_metrics_access = true }`: sys/metrics without a token on this listener. */
  unauthenticatedMetricsAccess: boolean;
  source: ConfigSource;
}

/** The top-level `telemetry` stanza. */
export interface TelemetryConfig {
  /** Seconds; above 0 makes sys/metrics answer Prometheus text by default. */
  prometheusRetentionTime: number;
  source: ConfigSource;
}

/**
 * A `seal "pkcs11"` stanza (or the VAULT_HSM_* environment): the seal's own
 * options, with the defaulted ones filled in, plus where it came from.
 */
/** `name` and `priority` of a seal stanza, used with enable_multiseal. */
export interface SealIdentity {
  /** Default: the seal type. */
  name?: string;
  /** Lower is tried first; required with enable_multiseal. */
  priority?: number;
}

export interface Pkcs11SealConfig extends Pkcs11SealOptions, SealIdentity {
  type: 'pkcs11';
  /** True for the old seal during a seal migration. */
  disabled: boolean;
  rsaOaepHash: string;
  maxParallel: number;
  /** Absent when the seal was configured from environment variables alone. */
  source?: ConfigSource;
}

export interface ShamirSealConfig {
  type: 'shamir';
  disabled: boolean;
  source: ConfigSource;
}

/** A `seal "transit"` stanza (or VAULT_SEAL_TYPE=transit with the environment), defaults filled in. */
export interface TransitSealConfig extends TransitSealOptions, SealIdentity {
  type: 'transit';
  disabled: boolean;
  /** Absent when the seal was configured from environment variables alone. */
  source?: ConfigSource;
}

export type SealConfig = Pkcs11SealConfig | TransitSealConfig | ShamirSealConfig;

export interface EntropyConfig {
  mode: 'augmentation';
  source: ConfigSource;
}

/** A `kms_library "pkcs11"` stanza: a PKCS#11 library managed keys name (`name` is case-insensitive, kept lower-case). */
export interface KmsLibraryConfig {
  type: 'pkcs11';
  name: string;
  /** Path of the shared library. */
  library: string;
  source: ConfigSource;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface ServerConfig {
  /** Absent only in dev mode, where the caller supplies in-memory storage. */
  storage?: StorageConfig;
  listeners: ListenerConfig[];
  /** Zero (Shamir), one, or two during a migration (one disabled). */
  seals: SealConfig[];
  entropy?: EntropyConfig;
  /** `kms_library` stanzas, for managed keys (sys/managed-keys). */
  kmsLibraries: KmsLibraryConfig[];
  telemetry?: TelemetryConfig;
  apiAddr?: string;
  clusterAddr?: string;
  /** HA: a standby answers 307 to the active node's api_addr instead of forwarding (Tresor's own key). */
  disableForwarding?: boolean;
  clusterName?: string;
  ui: boolean;
  disableMlock: boolean;
  /** `enable_multiseal`: several enabled seal stanzas, the root key wrapped under each. */
  enableMultiseal?: boolean;
  logLevel: LogLevel;
  /** `log_format`; unset: json in server mode, standard with -dev. */
  logFormat?: 'json' | 'standard';
  /** `log_file`: also log to this file (a directory: tresor.log inside it). */
  logFile?: string;
  /** Seconds; default 768h. */
  defaultLeaseTtl: number;
  /** Seconds; default 768h. */
  maxLeaseTtl: number;
  pidFile?: string;
  /** Accepted for compatibility; Tresor has no plugins. */
  pluginDirectory?: string;
}
