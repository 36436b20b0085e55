import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig, parseDuration, type Pkcs11SealConfig } from './config.ts';
import { TresorError } from '../core/errors.ts';
import { DurationError } from './duration.ts';

const NO_ENV: NodeJS.ProcessEnv = {};
const STORAGE = 'storage "file" {\n  path = "/var/lib/tresor"\n}\n';
const PKCS11 = `seal "pkcs11" {
  lib = "/usr/lib/softhsm/libsofthsm2.so"
  slot = "0"
  pin = "s3cret-pin"
  key_label = "tresor-root"
}
`;

function configError(text: string, env = NO_ENV, file = 'server.hcl'): ConfigError {
  try {
    parseConfig(text, file, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

function pkcs11(config: ReturnType<typeof parseConfig>): Pkcs11SealConfig {
  const seal = config.seals.find((s): s is Pkcs11SealConfig => s.type === 'pkcs11');
  assert.ok(seal, 'a pkcs11 seal is configured');
  return seal;
}

describe('parseConfig', () => {
  it('reads a full HCL configuration with Vault names into camelCase fields', () => {
    const config = parseConfig(
      `${STORAGE}
listener "tcp" {
  address     = "0.0.0.0:8300"
  tls_disable = "true"
  max_request_size = 1024
  http_read_header_timeout = "500ms"
  http_read_timeout        = 20
  http_write_timeout       = "1m"
  http_idle_timeout        = "90s"
  max_connections          = 100
}
${PKCS11}
entropy "seal" {
  mode = "augmentation"
}
api_addr          = "https://tresor.example:8200"
cluster_addr      = "https://tresor.example:8201"
cluster_name      = "prod"
ui                = true
disable_mlock     = true
log_level         = "Warning"
default_lease_ttl = "1h"
max_lease_ttl     = 86400
pid_file          = "/run/tresor.pid"
plugin_directory  = "/plugins"
`,
      'server.hcl',
      NO_ENV,
    );
    assert.deepEqual(config.storage, { type: 'file', options: { path: '/var/lib/tresor' }, source: { file: 'server.hcl', line: 1 } });
    assert.equal(config.listeners.length, 1);
    assert.deepEqual(
      { ...config.listeners[0], source: undefined },
      {
        type: 'tcp',
        address: '0.0.0.0:8300',
        tlsDisable: true,
        tlsCertFile: undefined,
        tlsKeyFile: undefined,
        maxRequestSize: 1024,
        readHeaderTimeoutMs: 500,
        readTimeoutMs: 20_000,
        writeTimeoutMs: 60_000,
        idleTimeoutMs: 90_000,
        maxConnections: 100,
        disableUnauthedRekeyEndpoints: false,
        disableUnauthedGenerateRootEndpoints: false,
        unauthenticatedMetricsAccess: false,
        source: undefined,
      },
    );
    const seal = pkcs11(config);
    assert.deepEqual(
      [seal.lib, seal.slot, seal.pin, seal.keyLabel, seal.generateKey, seal.maxParallel, seal.rsaOaepHash, seal.disabled],
      ['/usr/lib/softhsm/libsofthsm2.so', '0', 's3cret-pin', 'tresor-root', false, 1, 'sha256', false],
    );
    assert.equal(config.entropy?.mode, 'augmentation');
    assert.equal(config.apiAddr, 'https://tresor.example:8200');
    assert.equal(config.clusterAddr, 'https://tresor.example:8201');
    assert.equal(config.clusterName, 'prod');
    assert.equal(config.ui, true);
    assert.equal(config.disableMlock, true);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.defaultLeaseTtl, 3600);
    assert.equal(config.maxLeaseTtl, 86400);
    assert.equal(config.pidFile, '/run/tresor.pid');
    assert.equal(config.pluginDirectory, '/plugins');
  });

  it('applies defaults for the listener and the top level', () => {
    const config = parseConfig(`${STORAGE}listener "tcp" {\n  tls_disable = 1\n}\n`, 'server.hcl', NO_ENV);
    assert.equal(config.listeners[0].address, '127.0.0.1:8200');
    assert.equal(config.listeners[0].maxRequestSize, 33554432);
    // Vault's defaults: header 10s, read 30s, write none, idle 5m; the connection cap is the listener's own default.
    const { readHeaderTimeoutMs, readTimeoutMs, writeTimeoutMs, idleTimeoutMs, maxConnections } = config.listeners[0];
    assert.deepEqual([readHeaderTimeoutMs, readTimeoutMs, writeTimeoutMs, idleTimeoutMs, maxConnections], [10_000, 30_000, 0, 300_000, undefined]);
    assert.deepEqual([config.ui, config.disableMlock, config.logLevel, config.defaultLeaseTtl, config.maxLeaseTtl], [false, false, 'info', 2764800, 2764800]);
    assert.deepEqual(config.seals, []);
  });

  it('reads the listener options disable_unauthed_rekey_endpoints and disable_unauthed_generate_root_endpoints (default false)', () => {
    const defaults = parseConfig(`${STORAGE}listener "tcp" {\n  tls_disable = 1\n}\n`, 'server.hcl', NO_ENV).listeners[0]!;
    assert.equal(defaults.disableUnauthedRekeyEndpoints, false);
    assert.equal(defaults.disableUnauthedGenerateRootEndpoints, false);
    const set = parseConfig(
      `${STORAGE}listener "tcp" {\n  tls_disable = 1\n  disable_unauthed_rekey_endpoints = true\n  disable_unauthed_generate_root_endpoints = "1"\n}\n`,
      'server.hcl',
      NO_ENV,
    ).listeners[0]!;
    assert.equal(set.disableUnauthedRekeyEndpoints, true);
    assert.equal(set.disableUnauthedGenerateRootEndpoints, true);
    const err = configError(`${STORAGE}listener "tcp" {\n  tls_disable = 1\n  disable_unauthed_rekey_endpoints = "sometimes"\n}\n`);
    assert.match(err.message, /disable_unauthed_rekey_endpoints" must be a boolean/);
  });

  it('accepts backend as an alias of storage; reads the etcd stanza and refuses unknown keys in it', () => {
    assert.equal(parseConfig('backend "inmem" {}', 'a.hcl', NO_ENV).storage?.type, 'inmem');
    const etcd = parseConfig('storage "etcd" {\n  address = "http://127.0.0.1:2379"\n  ha_enabled = "true"\n}', 'a.hcl', NO_ENV).storage;
    assert.equal(etcd?.type, 'etcd');
    assert.deepEqual(etcd?.options, { address: 'http://127.0.0.1:2379', ha_enabled: 'true' });
    assert.match(configError('storage "etcd" {\n  bogus = 1\n}').message, /bogus/);
    assert.match(configError('storage "nope" {}').message, /unsupported storage type "nope" \(supported: file, inmem, etcd\)/);
  });

  it('requires a storage stanza except in dev mode', () => {
    assert.match(configError('ui = true').message, /no storage stanza/);
    assert.equal(parseConfig('ui = true', 'dev.hcl', NO_ENV, { dev: true }).storage, undefined);
  });

  it('reads a JSON configuration, including list-shaped stanzas', () => {
    const config = parseConfig(
      JSON.stringify({
        storage: { file: { path: '/data' } },
        listener: [{ tcp: { address: '127.0.0.1:9000', tls_disable: true } }],
        seal: { pkcs11: { lib: '/lib.so', token_label: 'tok', pin: '1234', key_label: 'k', max_parallel: 4 } },
        ui: true,
        default_lease_ttl: '10m',
      }),
      'server.json',
      NO_ENV,
    );
    assert.equal(config.storage?.options.path, '/data');
    assert.equal(config.listeners[0].address, '127.0.0.1:9000');
    assert.deepEqual([pkcs11(config).tokenLabel, pkcs11(config).maxParallel], ['tok', 4]);
    assert.equal(config.ui, true);
    assert.equal(config.defaultLeaseTtl, 600);
  });

  it('reports JSON errors with the line of the key', () => {
    const err = configError('{\n  "storage": {"file": {"path": "/d"}},\n  "adress": "x"\n}', NO_ENV, 'server.json');
    assert.equal(err.message, 'server.json:3: unknown key "adress"');
  });

  it('accepts a shamir seal and two seals when one is disabled (migration)', () => {
    const config = parseConfig(`${STORAGE}${PKCS11.replace('seal "pkcs11" {', 'seal "pkcs11" {\n  disabled = "true"')}seal "shamir" {}\n`, 'm.hcl', NO_ENV);
    assert.deepEqual(config.seals.map((s) => [s.type, s.disabled]), [['pkcs11', true], ['shamir', false]]);
  });
});

describe('configuration errors', () => {
  it('names file, line and key for an unknown key in a stanza', () => {
    const err = configError(`${STORAGE}listener "tcp" {\n  adress = "127.0.0.1:8200"\n}`);
    assert.equal(err.message, 'server.hcl:5: unknown key "adress" in listener "tcp"');
    assert.deepEqual([err.file, err.line], ['server.hcl', 5]);
  });

  it('rejects an unknown stanza and an unknown top-level key', () => {
    assert.equal(configError(`${STORAGE}telemetri {\n}`).message, 'server.hcl:4: unknown stanza "telemetri"');
    assert.equal(configError(`${STORAGE}api_adr = "x"`).message, 'server.hcl:4: unknown key "api_adr"');
  });

  it('reports a missing required key at the stanza', () => {
    assert.equal(configError('storage "file" {\n}\n').message, 'server.hcl:1: storage "file": missing required key "path"');
    assert.equal(
      configError(`${STORAGE}listener "tcp" {\n  tls_cert_file = "c.pem"\n}`).message,
      'server.hcl:4: listener "tcp": missing required key "tls_key_file"',
    );
  });

  it('reports a wrong type at the key', () => {
    assert.equal(configError(`${STORAGE}listener "tcp" {\n  tls_disable = "maybe"\n}`).message, 'server.hcl:5: key "tls_disable" must be a boolean');
    assert.equal(configError(`${STORAGE}\n\nui = "yes please"`).message, 'server.hcl:6: key "ui" must be a boolean');
    assert.match(configError(`${STORAGE}max_lease_ttl = "forever"`).message, /^server\.hcl:4: key "max_lease_ttl" must be a duration/);
    assert.match(configError(`${STORAGE}listener "tcp" {\n  tls_disable = true\n  max_request_size = "big"\n}`).message, /server\.hcl:6: key "max_request_size" must be a non-negative integer/);
    assert.equal(
      configError(`${STORAGE}listener "tcp" {\n  tls_disable = true\n  http_read_header_timeout = "soon"\n}`).message,
      'server.hcl:6: key "http_read_header_timeout" must be a duration such as "10s" or a number of seconds',
    );
    assert.equal(configError(`${STORAGE}listener "tcp" {\n  tls_disable = true\n  max_connections = 0\n}`).message, 'server.hcl:6: key "max_connections" must be at least 1');
  });

  it('reports syntax errors with file, line and column', () => {
    const err = configError('storage "file" {\n  path "/data"\n}');
    assert.equal(err.message, 'server.hcl:2: expected "=" after key "path"');
    assert.equal(err.line, 2);
  });

  it('rejects unsupported stanza types and a second storage stanza', () => {
    assert.match(configError('storage "consul" {}').message, /server\.hcl:1: unsupported storage type "consul"/);
    assert.match(configError(`${STORAGE}backend "inmem" {}`).message, /server\.hcl:4: only one storage stanza is allowed/);
    assert.match(configError(`${STORAGE}seal "awskms" {}`).message, /unsupported seal type "awskms"/);
  });

  it('rejects three seals, two enabled seals, and entropy without an HSM seal', () => {
    assert.match(configError(`${STORAGE}${PKCS11}seal "shamir" {}`).message, /exactly one must have disabled/);
    assert.match(configError(`${STORAGE}${PKCS11}seal "shamir" {}\nseal "shamir" {}`).message, /at most two seal stanzas/);
    assert.match(configError(`${STORAGE}entropy "seal" {\n  mode = "augmentation"\n}`).message, /entropy "seal" needs an enabled pkcs11 seal/);
  });

  it('never echoes the PIN in an error', () => {
    const wrongType = configError(`${STORAGE}seal "pkcs11" {\n  pin = ["s3cret-pin"]\n}`);
    assert.equal(wrongType.message, 'server.hcl:5: key "pin" must be a string');
    const missingLabel = configError(`${STORAGE}${PKCS11.replace(/ *key_label.*\n/, '')}`);
    assert.equal(missingLabel.message, 'server.hcl:4: seal "pkcs11": missing required key "key_label"');
    for (const err of [wrongType, missingLabel]) assert.doesNotMatch(err.message, /s3cret/);
  });

  it('requires a slot or a token label for pkcs11', () => {
    assert.match(configError(`${STORAGE}${PKCS11.replace(/ *slot.*\n/, '')}`).message, /missing required key "slot" \(or "token_label"\)/);
  });
});

describe('VAULT_HSM_* environment overrides', () => {
  it('override every pkcs11 stanza value with typed parsing', () => {
    const env: NodeJS.ProcessEnv = {
      VAULT_HSM_LIB: '/env/lib.so',
      VAULT_HSM_SLOT: '0x2',
      VAULT_HSM_TOKEN_LABEL: 'env-token',
      VAULT_HSM_PIN: 'env-pin',
      VAULT_HSM_KEY_LABEL: 'env-key',
      VAULT_HSM_KEY_ID: '0a0b',
      VAULT_HSM_HMAC_KEY_LABEL: 'env-hmac',
      VAULT_HSM_HMAC_KEY_ID: '0c0d',
      VAULT_HSM_MECHANISM: 'CKM_AES_GCM',
      VAULT_HSM_HMAC_MECHANISM: '0x251',
      VAULT_HSM_GENERATE_KEY: 'true',
      VAULT_HSM_FORCE_RW_SESSION: '1',
      VAULT_HSM_RSA_ENCRYPT_LOCAL: 'true',
      VAULT_HSM_RSA_OAEP_HASH: 'SHA512',
      VAULT_HSM_MAX_PARALLEL: '8',
    };
    const seal = pkcs11(parseConfig(`${STORAGE}${PKCS11}`, 'server.hcl', env));
    assert.deepEqual(
      { ...seal, source: undefined },
      {
        type: 'pkcs11',
        disabled: false,
        lib: '/env/lib.so',
        slot: '0x2',
        tokenLabel: 'env-token',
        pin: 'env-pin',
        keyLabel: 'env-key',
        keyId: '0a0b',
        hmacKeyLabel: 'env-hmac',
        hmacKeyId: '0c0d',
        mechanism: 'CKM_AES_GCM',
        hmacMechanism: '0x251',
        generateKey: true,
        forceRwSession: true,
        rsaEncryptLocal: true,
        rsaOaepHash: 'sha512',
        maxParallel: 8,
        source: undefined,
      },
    );
  });

  it('supply a value the stanza leaves out (the PIN kept out of the file)', () => {
    const seal = pkcs11(parseConfig(`${STORAGE}${PKCS11.replace(/ *pin.*\n/, '')}`, 'server.hcl', { VAULT_HSM_PIN: 'from-env' }));
    assert.equal(seal.pin, 'from-env');
  });

  it('enable the pkcs11 seal without a stanza when VAULT_SEAL_TYPE=pkcs11 and VAULT_HSM_LIB are set', () => {
    const env = { VAULT_SEAL_TYPE: 'pkcs11', VAULT_HSM_LIB: '/lib.so', VAULT_HSM_SLOT: '1', VAULT_HSM_PIN: '1234', VAULT_HSM_KEY_LABEL: 'k' };
    const seal = pkcs11(parseConfig(STORAGE, 'server.hcl', env));
    assert.deepEqual([seal.lib, seal.slot, seal.keyLabel, seal.source], ['/lib.so', '1', 'k', undefined]);
    assert.deepEqual(parseConfig(STORAGE, 'server.hcl', { VAULT_HSM_LIB: '/lib.so' }).seals, [], 'VAULT_HSM_LIB alone adds no seal');
    const legacy = parseConfig(STORAGE, 'server.hcl', { ...env, VAULT_SEAL_TYPE: undefined, VAULT_HSM_TYPE: 'pkcs11' });
    assert.equal(pkcs11(legacy).lib, '/lib.so', 'VAULT_HSM_TYPE is the older spelling');
    assert.equal(configError(STORAGE, { VAULT_SEAL_TYPE: 'awskms' }).message, 'environment variable VAULT_SEAL_TYPE must be "pkcs11", "transit" or "shamir"');
    const incomplete = configError(STORAGE, { VAULT_SEAL_TYPE: 'pkcs11', VAULT_HSM_LIB: '/lib.so', VAULT_HSM_SLOT: '1', VAULT_HSM_PIN: 'zz-pin' });
    assert.equal(incomplete.message, 'seal "pkcs11" (from environment): missing required key "key_label"');
  });

  it('reject malformed typed values by variable name without echoing them', () => {
    assert.equal(configError(`${STORAGE}${PKCS11}`, { VAULT_HSM_GENERATE_KEY: 'sure' }).message, 'environment variable VAULT_HSM_GENERATE_KEY must be a boolean');
    assert.equal(configError(`${STORAGE}${PKCS11}`, { VAULT_HSM_MAX_PARALLEL: '-3' }).message, 'environment variable VAULT_HSM_MAX_PARALLEL must be a non-negative integer');
  });
});

describe('loadConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('merges files and directories in order like Vault', () => {
    const confDir = path.join(dir, 'conf.d');
    fs.mkdirSync(confDir);
    fs.writeFileSync(path.join(dir, 'base.hcl'), `${STORAGE}listener "tcp" {\n  tls_disable = true\n}\nui = false\nlog_level = "debug"\n`);
    fs.writeFileSync(path.join(confDir, '10-listener.json'), JSON.stringify({ listener: { tcp: { address: '127.0.0.1:8300', tls_disable: 'true' } }, ui: true }));
    fs.writeFileSync(path.join(confDir, '20-storage.hcl'), 'storage "file" {\n  path = "/override"\n}\n');
    fs.writeFileSync(path.join(confDir, 'README.md'), 'not configuration');
    const config = loadConfig([path.join(dir, 'base.hcl'), confDir], NO_ENV);
    assert.equal(config.storage?.options.path, '/override');
    assert.equal(config.storage?.source.file, path.join(confDir, '20-storage.hcl'));
    assert.deepEqual(config.listeners.map((l) => l.address), ['127.0.0.1:8200', '127.0.0.1:8300']);
    assert.equal(config.ui, true);
    assert.equal(config.logLevel, 'debug');
  });

  it('reports an error inside a directory by that file path', () => {
    const bad = path.join(dir, 'bad.d');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'x.hcl'), `${STORAGE}\nbogus = 1\n`);
    assert.throws(() => loadConfig([bad], NO_ENV), { name: 'ConfigError', message: `${path.join(bad, 'x.hcl')}:5: unknown key "bogus"` });
  });

  it('rejects a missing path', () => {
    assert.throws(() => loadConfig([path.join(dir, 'nope.hcl')], NO_ENV), /cannot read configuration/);
  });
});

describe('parseDuration', () => {
  it('parses seconds, Go-style units and days into whole seconds', () => {
    const cases: Array<[string | number, number]> = [
      [90, 90], ['90', 90], ['10s', 10], ['30m', 1800], ['768h', 2764800], ['1h30m', 5400], ['1.5h', 5400],
      ['7d', 604800], ['1500ms', 1], ['0', 0], [' 2m ', 120], ['0.1h', 360],
    ];
    for (const [input, seconds] of cases) assert.equal(parseDuration(input), seconds, `parseDuration(${JSON.stringify(input)})`);
  });

  it('rejects malformed and negative durations with a 400', () => {
    for (const input of ['', 'h', '10x', '-5s', '5 s', '1h-', 'abc', -1, NaN, Infinity, '1e300']) {
      assert.throws(() => parseDuration(input), (err: unknown) => err instanceof TresorError && err.status === 400, `parseDuration(${JSON.stringify(input)})`);
    }
  });

  it('refuses durations past 100 years (Vault overflows past ~292), without echoing the input', () => {
    assert.equal(parseDuration('876000h'), 100 * 365 * 24 * 3600);
    for (const input of [1e300, '99999999999999999999', '9'.repeat(400), '876001h', 100 * 365 * 24 * 3600 + 1]) {
      assert.throws(() => parseDuration(input), (err: unknown) => err instanceof DurationError && err.status === 400 &&
        err.problem === 'too long' && err.message === 'duration exceeds the maximum of 100 years', `parseDuration(${String(input).slice(0, 30)})`);
    }
  });

  it('a config duration past 100 years is refused naming the key', () => {
    assert.match(configError(`${STORAGE}max_lease_ttl = "1000000h"`).message, /^server\.hcl:4: key "max_lease_ttl" must be at most 100 years/);
  });
});

describe('kms_library stanzas', () => {
  const lib = (name: string, library = '/usr/lib/softhsm/libsofthsm2.so', type = 'pkcs11') => `kms_library "${type}" {\n  name    = "${name}"\n  library = "${library}"\n}\n`;

  it('reads several, names lower-cased, with their source lines', () => {
    const config = parseConfig(`${STORAGE}${lib('SoftHSM')}${lib('other', '/opt/hsm/lib.so')}`, 'server.hcl', NO_ENV);
    assert.deepEqual(
      config.kmsLibraries.map((l) => [l.type, l.name, l.library, l.source.line]),
      [['pkcs11', 'softhsm', '/usr/lib/softhsm/libsofthsm2.so', 4], ['pkcs11', 'other', '/opt/hsm/lib.so', 8]],
    );
    assert.deepEqual(parseConfig(STORAGE, 'server.hcl', NO_ENV).kmsLibraries, []);
  });

  it('refuses bad stanzas, naming them and their line', () => {
    assert.match(configError(`${STORAGE}${lib('x', '/l.so', 'awskms')}`).message, /^server\.hcl:4: .*unsupported kms_library type "awskms"/);
    assert.match(configError(`${STORAGE}kms_library "pkcs11" {\n  name = "x"\n}\n`).message, /server\.hcl:4: .*"library"/);
    assert.match(configError(`${STORAGE}kms_library "pkcs11" {\n  library = "/l.so"\n}\n`).message, /server\.hcl:4: .*"name"/);
    assert.match(configError(`${STORAGE}kms_library "pkcs11" {\n  name = "x"\n  library = "/l.so"\n  pin = "1234"\n}\n`).message, /unknown key "pin" in kms_library "pkcs11"/);
    assert.match(configError(`${STORAGE}${lib('a')}${lib('A')}`).message, /server\.hcl:8: kms_library "pkcs11": duplicate name "a"/);
  });
});

describe('telemetry', () => {
  it('reads the telemetry stanza and the listener telemetry block', () => {
    const config = parseConfig(
      `storage "inmem" {}
listener "tcp" {
  tls_disable = true
  telemetry {
    unauthenticated_metrics_access = true
  }
}
telemetry {
  prometheus_retention_time = "12h"
  disable_hostname = true
}`,
      'a.hcl',
      {},
    );
    assert.equal(config.listeners[0].unauthenticatedMetricsAccess, true);
    assert.equal(config.telemetry?.prometheusRetentionTime, 12 * 3600);
  });

  it('refuses an unknown key in either telemetry block, naming it', () => {
    assert.throws(() => parseConfig('storage "inmem" {}\ntelemetry {\n  statsd_address = "x"\n}', 'a.hcl', {}), /unknown key "statsd_address" in telemetry/);
    assert.throws(
      () => parseConfig('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  telemetry {\n    other = 1\n  }\n}', 'a.hcl', {}),
      /unknown key "other" in listener "tcp" telemetry/,
    );
  });
});
