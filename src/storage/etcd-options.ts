// Kept apart from etcd.ts so the config reader does not load the etcd client.
/** The option keys a `storage "etcd"` stanza accepts (Vault's, plus max_request_bytes). */
export const ETCD_OPTION_KEYS = [
  'address',
  'path',
  'ha_enabled',
  'etcd_api',
  'sync',
  'discovery_srv',
  'discovery_srv_name',
  'tls_ca_file',
  'tls_cert_file',
  'tls_key_file',
  'username',
  'password',
  'request_timeout',
  'lock_timeout',
  'max_receive_size',
  'max_request_bytes',
] as const;
