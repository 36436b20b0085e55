import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pkcs11SealConfig } from '../../src/seal/pkcs11/config.ts';
import { SHAMIR_FILE_CONFIG } from './server.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/softhsm-token.sh', import.meta.url));

export interface SoftHsmToken {
  /** Temp dir holding the config and the token store. */
  dir: string;
  /** Path of the SoftHSM2 config: the value for SOFTHSM2_CONF. */
  conf: string;
  /** `directories.tokendir` of that config. */
  tokenDir: string;
  label: string;
  pin: string;
  soPin: string;
  /** process.env plus SOFTHSM2_CONF, for child processes. */
  env: NodeJS.ProcessEnv;
  /** Removes the temp dir. */
  cleanup(): void;
}

export const SOFTHSM_LIB = process.env.SOFTHSM2_LIB ?? '/usr/lib/softhsm/libsofthsm2.so';

/**
 * A fresh SoftHSM2 token in its own temp dir (via scripts/softhsm-token.sh).
 * Touches no global state: in-process users must set
 * `process.env.SOFTHSM2_CONF = token.conf` themselves before C_Initialize.
 */
export function createSoftHsmToken(options: { label?: string; pin?: string } = {}): SoftHsmToken {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-softhsm-'));
  const label = options.label ?? 'tresor-test';
  const pin = options.pin ?? '4321';
  const soPin = '87654321';
  // The PINs go by environment, never as arguments (see the script).
  const conf = execFileSync(SCRIPT, [dir, label], {
    encoding: 'utf8',
    env: { ...process.env, TRESOR_SOFTHSM_PIN: pin, TRESOR_SOFTHSM_SO_PIN: soPin },
  }).trim();
  return {
    dir,
    conf,
    tokenDir: path.join(dir, 'tokens'),
    label,
    pin,
    soPin,
    env: { ...process.env, SOFTHSM2_CONF: conf },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A `seal "pkcs11"` config for `token`: AES-GCM, key label "tresor-key",
 * generate_key on, selected by token label; `overrides` win.
 */
export function softHsmSealConfig(token: SoftHsmToken, overrides: Partial<Pkcs11SealConfig> = {}): Pkcs11SealConfig {
  return {
    lib: SOFTHSM_LIB,
    tokenLabel: token.label,
    pin: token.pin,
    keyLabel: 'tresor-key',
    generateKey: true,
    forceRwSession: false,
    rsaEncryptLocal: false,
    ...overrides,
  };
}

export interface HsmServerSealOptions {
  lib?: string;
  /** Default: the token's own label. */
  tokenLabel?: string;
  /** Default "tresor-root". */
  keyLabel?: string;
  /** Default true. */
  generateKey?: boolean;
  /** The old seal of a seal migration. */
  disabled?: boolean;
}

/**
 * TestServer HCL (file storage, loopback listener) with a `seal "pkcs11"`
 * on `token`, HMAC key "tresor-hmac". No PIN in the file: pass it in
 * VAULT_HSM_PIN.
 */
export function hsmServerConfig(token: SoftHsmToken, o: HsmServerSealOptions = {}): string {
  return `${SHAMIR_FILE_CONFIG}seal "pkcs11" {
  lib            = "${o.lib ?? SOFTHSM_LIB}"
  token_label    = "${o.tokenLabel ?? token.label}"
  key_label      = "${o.keyLabel ?? 'tresor-root'}"
  hmac_key_label = "tresor-hmac"
  generate_key   = "${o.generateKey ?? true}"
${o.disabled ? '  disabled       = "true"\n' : ''}}
`;
}

/** Runs pkcs11-tool against `token` (logged in) and returns its stdout. */
export function pkcs11Tool(token: SoftHsmToken, args: string[]): string {
  return execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', token.label, '--login', '--pin', token.pin, ...args], {
    env: token.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
