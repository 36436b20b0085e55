/** Helpers for the managed-key tests: a -dev server with a kms_library stanza, and the token seen through pkcs11js directly. */
import assert from 'node:assert/strict';
import pkcs11js from 'pkcs11js';
import { TestServer } from './server.ts';
import { SOFTHSM_LIB, type SoftHsmToken } from './softhsm.ts';

export const PIN = '7395';

export function managedKeyServerConfig(lib = SOFTHSM_LIB): string {
  return `
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
kms_library "pkcs11" {
  name    = "softhsm"
  library = "${lib}"
}
`;
}

export async function startManagedKeyServer(token: SoftHsmToken): Promise<TestServer> {
  const server = await TestServer.start({ args: ['-dev', '-dev-root-token-id=root'], config: managedKeyServerConfig(), env: token.env });
  server.api.token = 'root';
  return server;
}

/** Reads the attributes of the objects labelled `label` on `token` with pkcs11js itself (a separate process's view). */
export function tokenObjects(token: SoftHsmToken, label: string): Array<Record<string, unknown>> {
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = token.conf;
  const m = new pkcs11js.PKCS11();
  m.load(SOFTHSM_LIB);
  m.C_Initialize();
  try {
    const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.trim() === token.label)!;
    const session = m.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    m.C_Login(session, pkcs11js.CKU_USER, token.pin);
    m.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const found = m.C_FindObjects(session, 10);
    m.C_FindObjectsFinal(session);
    return found.map((handle) => {
      const [cls] = m.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CLASS }]);
      const objectClass = Buffer.from(cls.value as Buffer).readUInt32LE(0);
      const out: Record<string, unknown> = { class: objectClass };
      if (objectClass !== pkcs11js.CKO_PUBLIC_KEY) {
        const attrs = m.C_GetAttributeValue(session, handle, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_TOKEN },
        ]);
        out.sensitive = Buffer.from(attrs[0].value as Buffer)[0] === 1;
        out.extractable = Buffer.from(attrs[1].value as Buffer)[0] === 1;
        out.token = Buffer.from(attrs[2].value as Buffer)[0] === 1;
      }
      return out;
    });
  } finally {
    m.C_Finalize();
    m.close();
    if (previous === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previous;
  }
}

export function assertVaultError(res: { status: number; body: any }, status: number, text?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, JSON.stringify(res.body));
  if (text) assert.match(res.body.errors.join(' '), text);
}

