import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES-256-GCM in Node for the RSA-OAEP envelope: RSA can only encrypt a few
 * hundred bytes, so the HSM wraps a one-time data key and Node encrypts the
 * payload with it. Output is ciphertext || 16-byte tag, like PKCS#11 GCM.
 */
export function localGcmEncrypt(key: Buffer, iv: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  if (aad) cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Inverse of localGcmEncrypt; throws when the tag or AAD does not match. */
export function localGcmDecrypt(key: Buffer, iv: Buffer, sealed: Buffer, aad?: Buffer): Buffer {
  if (sealed.length < 16) throw new Error('ciphertext shorter than the GCM tag');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}
