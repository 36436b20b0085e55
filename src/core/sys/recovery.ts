import { badRequest } from '../errors.ts';
import { generateRootFor } from '../generate-root.ts';
import { decodeToken } from '../otp.ts';
import { rekeyFor, type RekeyTarget } from '../rekey.ts';
import type { FieldSchemas } from '../../framework/index.ts';
import { noContent, raw, sysData, type SysPath } from './request.ts';

const NONCE = { nonce: { type: 'string', description: 'The nonce of the attempt in progress.' } } as const satisfies FieldSchemas;
const SHARE = {
  ...NONCE,
  key: { type: 'string', description: 'One key share (unseal or recovery), hex or base64.', sensitive: true },
} as const satisfies FieldSchemas;

/**
 * The quorum endpoints: generate-root, rekey and recovery-key rekey. As in
 * Vault they need no token (the key shares are the authorisation) but do
 * need the server unsealed (503 otherwise). Only the backup endpoints,
 * which hand out stored encrypted shares, need a token with sudo.
 */
function rekeyPaths(base: string, target: RekeyTarget): SysPath[] {
  const what = target === 'barrier' ? 'the root key' : 'the recovery key';
  return [
    {
      pattern: `${base}/init`,
      unauthenticated: true,
      synopsis: `Start, read or cancel a rekey of ${what}.`,
      fields: {
        ...NONCE,
        secret_shares: { type: 'int', description: 'Number of shares to split the new key into.' },
        secret_threshold: { type: 'int', description: 'Number of shares needed to reconstruct the new key.' },
        pgp_keys: { type: 'comma-string-slice', description: 'Base64 PGP public keys to encrypt the new shares with.' },
        backup: { type: 'bool', description: 'Store the PGP-encrypted new shares for later retrieval.' },
        require_verification: { type: 'bool', description: 'The new shares must be proven before they replace the old ones.' },
      },
      operations: {
        read: async ({ core }) => raw(await rekeyFor(core, target).status()),
        update: async ({ core, remoteAddress }, f) => raw(await rekeyFor(core, target).start(f.given(), remoteAddress)),
        delete: async ({ core, remoteAddress }, f) => {
          await rekeyFor(core, target).cancel(f.given(), remoteAddress);
          return noContent();
        },
      },
    },
    {
      pattern: `${base}/update`,
      unauthenticated: true,
      synopsis: `Submit one share authorising the rekey of ${what}.`,
      fields: SHARE,
      operations: { update: async ({ core }, f) => raw(await rekeyFor(core, target).update(f.given())) },
    },
    {
      pattern: `${base}/verify`,
      unauthenticated: true,
      synopsis: `Prove the new shares of a rekey of ${what}.`,
      fields: SHARE,
      operations: {
        read: async ({ core }) => raw(await rekeyFor(core, target).verifyStatus()),
        update: async ({ core }, f) => raw(await rekeyFor(core, target).verify(f.given())),
        delete: async ({ core }) => raw(await rekeyFor(core, target).restartVerification()),
      },
    },
  ];
}

function backupPath(pattern: string, target: RekeyTarget): SysPath {
  return {
    pattern,
    sudo: true,
    synopsis: `The PGP-encrypted shares stored by a rekey of the ${target === 'barrier' ? 'root' : 'recovery'} key with backup.`,
    operations: {
      read: async ({ core }) => sysData({ ...(await rekeyFor(core, target).readBackup()) }),
      delete: async ({ core }) => {
        await rekeyFor(core, target).deleteBackup();
        return noContent();
      },
    },
  };
}

export const recoveryPaths: SysPath[] = [
  {
    pattern: 'generate-root/attempt',
    unauthenticated: true,
    synopsis: 'Start, read or cancel the generation of a new root token.',
    fields: {
      ...NONCE,
      otp: { type: 'string', description: 'Base62 one-time password the new token is XORed with.', sensitive: true },
      pgp_key: { type: 'string', description: 'Base64 PGP public key to encrypt the new token with.' },
    },
    operations: {
      read: async ({ core }) => raw(await generateRootFor(core).status()),
      update: async ({ core, remoteAddress }, f) => raw(await generateRootFor(core).start(f.given(), remoteAddress)),
      delete: async ({ core, remoteAddress }, f) => {
        await generateRootFor(core).cancel(f.given(), remoteAddress);
        return noContent();
      },
    },
  },
  {
    pattern: 'generate-root/update',
    unauthenticated: true,
    synopsis: 'Submit one share authorising the root token generation.',
    fields: SHARE,
    operations: { update: async ({ core }, f) => raw(await generateRootFor(core).update(f.given())) },
  },
  {
    pattern: 'decode-token',
    unauthenticated: true,
    synopsis: 'Decode the encoded root token a generate-root attempt produced, with its OTP.',
    fields: {
      encoded_token: { type: 'string', description: 'The encoded token the last generate-root update answered with.', sensitive: true },
      otp: { type: 'string', description: 'The one-time password the attempt was started with.', sensitive: true },
    },
    operations: {
      update: async (_req, f) => {
        const encoded = f.get<string>('encoded_token');
        const otp = f.get<string>('otp');
        if (encoded === '' || otp === '') throw badRequest("provided 'encoded_token' or 'otp' is empty");
        return { data: { token: decodeToken(encoded, otp) } };
      },
    },
  },
  // Backups before the wider patterns; Vault documents the recovery one under sys/rekey/.
  backupPath('rekey/backup', 'barrier'),
  backupPath('rekey/recovery-key-backup', 'recovery'),
  backupPath('rekey-recovery-key/backup', 'recovery'),
  ...rekeyPaths('rekey', 'barrier'),
  ...rekeyPaths('rekey-recovery-key', 'recovery'),
];
