/**
 * Initialises the first uninitialised token of a SoftHSM2 store (the one
 * SOFTHSM2_CONF points at) through the PKCS#11 API: C_InitToken with the SO
 * PIN and LABEL, then C_InitPIN with the user PIN. It exists because
 * softhsm2-util takes both PINs only as command-line arguments, which any
 * local user can read in the process list; here they come on stdin (SO PIN,
 * then user PIN, one a line) and never appear in argv or the environment.
 *
 * Usage: node dist/scripts/softhsm-init-token.js LIB LABEL <<<"$so_pin
 * $pin"  (called by scripts/softhsm-token.sh, which builds it). Prints nothing
 * on success.
 */
import pkcs11js from 'pkcs11js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message: string): never {
  process.stderr.write(`softhsm-init-token: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const [lib, label] = process.argv.slice(2);
  if (!lib || !label) fail('usage: softhsm-init-token.ts LIB LABEL (SO PIN and user PIN on stdin, one a line)');
  const [soPin, pin] = (await readStdin()).split(/\r?\n/);
  // SoftHSM's bounds for both PINs; the values themselves are never printed.
  for (const [name, value] of [['SO PIN', soPin], ['user PIN', pin]] as const) {
    if (!value || value.length < 4 || value.length > 255) fail(`the ${name} must be 4 to 255 characters`);
  }
  if (Buffer.byteLength(label) > 32) fail('the token label must be at most 32 bytes');

  const module = new pkcs11js.PKCS11();
  module.load(lib);
  module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  try {
    const slot = module.C_GetSlotList(true).find((s) => (module.C_GetTokenInfo(s).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (!slot) fail('no free (uninitialised) token in this SoftHSM2 store');
    module.C_InitToken(slot, soPin, label.padEnd(32, ' '));
    const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      module.C_Login(session, pkcs11js.CKU_SO, soPin);
      module.C_InitPIN(session, pin);
      module.C_Logout(session);
    } finally {
      module.C_CloseSession(session);
    }
  } catch (err) {
    // pkcs11js errors carry the function and CKR_* name, never a PIN.
    fail(err instanceof Error ? err.message : String(err));
  } finally {
    module.C_Finalize();
  }
}

await main();
