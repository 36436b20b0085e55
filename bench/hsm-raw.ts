/**
 * Child process: the raw pkcs11js ceilings, with no Tresor code between the
 * caller and the library. Runs in its own process so it never shares the
 * library's one-per-process C_Initialize with a Pkcs11Seal.
 *
 * argv[2] is a JSON {@link RawHsmInput}; the first stdout line is the JSON
 * result: {@link RawOpenResult} for mode "open", {@link RawThroughputResult}
 * for mode "throughput". SOFTHSM2_CONF must be set in the environment.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { closedLoop, type LoopResult } from './closed-loop.ts';

export interface RawHsmToken {
  lib: string;
  tokenLabel: string;
  pin: string;
  /** CKA_LABEL of an existing AES secret key on the token. */
  keyLabel: string;
}

export interface RawThroughputJob {
  op: 'encrypt' | 'decrypt';
  /** Sessions, each running one operation at a time. */
  concurrency: number;
}

export type RawHsmInput = RawHsmToken &
  ({ mode: 'open' } | { mode: 'throughput'; jobs: RawThroughputJob[]; warmupMs: number; durationMs: number; plaintextBytes: number });

/** Milliseconds for a cold start (library load through login and key lookup) and one C_Decrypt. */
export interface RawOpenResult {
  openMs: number;
  decryptMs: number;
  totalMs: number;
}

export interface RawThroughputResult {
  results: (RawThroughputJob & LoopResult)[];
}

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

const gcm = (iv: Buffer): pkcs11js.Mechanism => ({
  mechanism: pkcs11js.CKM_AES_GCM,
  parameter: { type: pkcs11js.CK_PARAMS_AES_GCM_v240, iv, ivBits: GCM_IV_BYTES * 8, tagBits: GCM_TAG_BYTES * 8 } as pkcs11js.AesGCM,
});

interface Opened {
  module: pkcs11js.PKCS11;
  slot: Buffer;
  session: Buffer;
  key: Buffer;
}

/** load + C_Initialize + slot by label + C_OpenSession + C_Login + C_FindObjects for the key. */
function open(token: RawHsmToken): Opened {
  const module = new pkcs11js.PKCS11();
  module.load(token.lib);
  module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
  if (!slot) throw new Error(`no token labelled ${token.tokenLabel}`);
  const session = openSession(module, slot);
  module.C_Login(session, pkcs11js.CKU_USER, token.pin);
  module.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: token.keyLabel },
  ]);
  const key = module.C_FindObjects(session);
  module.C_FindObjectsFinal(session);
  if (!key) throw new Error(`no secret key labelled ${token.keyLabel}`);
  return { module, slot, session, key };
}

const openSession = (module: pkcs11js.PKCS11, slot: Buffer) => module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);

function encryptSync(o: Opened, session: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  o.module.C_EncryptInit(session, gcm(iv), o.key);
  return o.module.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + GCM_TAG_BYTES));
}

function measureOpen(token: RawHsmToken): RawOpenResult {
  const start = performance.now();
  const opened = open(token);
  const openMs = performance.now() - start;
  // Untimed: the decrypt needs a ciphertext made by the same key.
  const iv = randomBytes(GCM_IV_BYTES);
  const sealed = encryptSync(opened, opened.session, iv, randomBytes(32));
  const decryptStart = performance.now();
  opened.module.C_DecryptInit(opened.session, gcm(iv), opened.key);
  opened.module.C_Decrypt(opened.session, sealed, Buffer.alloc(sealed.length));
  const decryptMs = performance.now() - decryptStart;
  opened.module.C_Finalize();
  return { openMs, decryptMs, totalMs: openMs + decryptMs };
}

async function measureThroughput(token: RawHsmToken, input: Extract<RawHsmInput, { mode: 'throughput' }>): Promise<RawThroughputResult> {
  const opened = open(token);
  const plaintext = randomBytes(input.plaintextBytes);
  const results: RawThroughputResult['results'] = [];
  for (const job of input.jobs) {
    // One session per worker (sessions are logged in through the first one).
    const sessions = Array.from({ length: job.concurrency }, () => openSession(opened.module, opened.slot));
    const iv = randomBytes(GCM_IV_BYTES);
    const sealed = encryptSync(opened, opened.session, iv, plaintext);
    const run = (worker: number) => {
      const session = sessions[worker]!;
      if (job.op === 'encrypt') {
        opened.module.C_EncryptInit(session, gcm(randomBytes(GCM_IV_BYTES)), opened.key);
        return opened.module.C_EncryptAsync(session, plaintext, Buffer.alloc(plaintext.length + GCM_TAG_BYTES));
      }
      opened.module.C_DecryptInit(session, gcm(iv), opened.key);
      return opened.module.C_DecryptAsync(session, sealed, Buffer.alloc(sealed.length));
    };
    const loop = await closedLoop({ concurrency: job.concurrency, warmupMs: input.warmupMs, durationMs: input.durationMs }, run);
    results.push({ ...job, ...loop });
    for (const session of sessions) opened.module.C_CloseSession(session);
  }
  opened.module.C_Finalize();
  return { results };
}

const input = JSON.parse(process.argv[2] ?? '{}') as RawHsmInput;
const output = input.mode === 'open' ? measureOpen(input) : await measureThroughput(input, input);
process.stdout.write(`${JSON.stringify(output)}\n`);
