import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type TransitSealConfig } from './config.ts';

const STORAGE = 'storage "file" {\n  path = "/var/lib/tresor"\n}\n';
const TOKEN = 'hvs.secret-transit-token';

function transit(text: string, env: NodeJS.ProcessEnv = {}): TransitSealConfig {
  const seal = parseConfig(`${STORAGE}${text}`, 'server.hcl', env).seals.find((s): s is TransitSealConfig => s.type === 'transit');
  assert.ok(seal, 'a transit seal is configured');
  return seal;
}

function refused(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(`${STORAGE}${text}`, 'server.hcl', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('seal "transit" config', () => {
  it('reads every Vault key and fills defaults (mount_path "transit/", renewal on, TLS verified)', () => {
    const seal = transit(`seal "transit" {
  address = "https://peer:8200"
  token = "${TOKEN}"
  key_name = "unseal"
  namespace = "ns1/"
  key_id_prefix = "dc1-"
  tls_ca_cert = "/etc/ca.pem"
  tls_client_cert = "/etc/c.pem"
  tls_client_key = "/etc/k.pem"
  tls_server_name = "peer"
}
`);
    assert.equal(seal.address, 'https://peer:8200');
    assert.equal(seal.token, TOKEN);
    assert.equal(seal.keyName, 'unseal');
    assert.equal(seal.mountPath, 'transit/');
    assert.equal(seal.namespace, 'ns1/');
    assert.equal(seal.keyIdPrefix, 'dc1-');
    assert.equal(seal.tlsServerName, 'peer');
    assert.equal(seal.tlsSkipVerify, false);
    assert.equal(seal.disableRenewal, false);
    assert.equal(transit(`seal "transit" {\n address = "http://p:1"\n token = "t"\n key_name = "k"\n mount_path = "/seal/keys"\n disable_renewal = "true"\n tls_skip_verify = true\n}\n`).mountPath, 'seal/keys/');
  });

  it('VAULT_TRANSIT_SEAL_* override the stanza; VAULT_ADDR and VAULT_TOKEN only fill a missing key', () => {
    const env = {
      VAULT_TRANSIT_SEAL_KEY_NAME: 'from-env',
      VAULT_TRANSIT_SEAL_MOUNT_PATH: 'other/',
      VAULT_TRANSIT_SEAL_DISABLE_RENEWAL: 'true',
      VAULT_ADDR: 'http://env:8200',
      VAULT_TOKEN: 'env-token',
    };
    const seal = transit(`seal "transit" {\n address = "http://stanza:8200"\n key_name = "stanza"\n}\n`, env);
    assert.equal(seal.keyName, 'from-env');
    assert.equal(seal.mountPath, 'other/');
    assert.equal(seal.disableRenewal, true);
    assert.equal(seal.address, 'http://stanza:8200');
    assert.equal(seal.token, 'env-token');
  });

  it('VAULT_SEAL_TYPE=transit configures the seal from the environment alone', () => {
    const seal = transit('', { VAULT_SEAL_TYPE: 'transit', VAULT_ADDR: 'http://env:8200', VAULT_TOKEN: 't', VAULT_TRANSIT_SEAL_KEY_NAME: 'k' });
    assert.equal(seal.address, 'http://env:8200');
    assert.equal(seal.mountPath, 'transit/');
  });

  it('refuses missing keys, a bad address, half a client certificate and unknown keys, naming the stanza and never the token', () => {
    const cases: [string, RegExp][] = [
      [`seal "transit" {\n token = "${TOKEN}"\n key_name = "k"\n}\n`, /seal "transit": missing required key "address"/],
      [`seal "transit" {\n address = "http://p:1"\n key_name = "k"\n}\n`, /seal "transit": missing required key "token"/],
      [`seal "transit" {\n address = "http://p:1"\n token = "${TOKEN}"\n}\n`, /seal "transit": missing required key "key_name"/],
      [`seal "transit" {\n address = "ftp://p"\n token = "${TOKEN}"\n key_name = "k"\n}\n`, /seal "transit": key "address" must be an http/],
      [`seal "transit" {\n address = "http://p:1"\n token = "${TOKEN}"\n key_name = "k"\n tls_client_cert = "/c"\n}\n`, /tls_client_cert" and "tls_client_key" must be given together/],
      [`seal "transit" {\n address = "http://p:1"\n token = "${TOKEN}"\n key_name = "k"\n tokn = "x"\n}\n`, /tokn/],
    ];
    for (const [text, expected] of cases) {
      const message = refused(text);
      assert.match(message, expected);
      assert.ok(!message.includes(TOKEN), message);
    }
    assert.match(refused('', { VAULT_SEAL_TYPE: 'transit' }), /seal "transit" \(from environment\): missing required key "address"/);
    assert.match(refused('', { VAULT_SEAL_TYPE: 'awskms' }), /VAULT_SEAL_TYPE must be "pkcs11", "transit" or "shamir"/);
  });
});
