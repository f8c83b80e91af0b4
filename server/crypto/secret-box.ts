/**
 * Encrypts secrets at rest (Stripe keys, OAuth tokens) with AES-256-GCM under `ENCRYPTION_KEY`.
 * Stored form: `v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>`; `keyId` is the first 8 hex chars of
 * SHA-256(key), so a rotated key can be told apart from the one that wrote a value.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Thrown when a stored secret cannot be decrypted (wrong key, or the value was altered). */
export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError';
}

export interface SecretBox {
  /** @returns the stored form of `plaintext`. */
  seal(plaintext: string): string;
  /** @throws SecretDecryptionError when the value was not sealed by one of the known keys, or was altered. */
  open(sealed: string): string;
  /** True when the value was sealed with an older key (a rotation is under way) and should be sealed again. */
  needsReseal(sealed: string): boolean;
}

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * @param key the current 32-byte key (seals and opens).
 * @param previousKeys older keys that can still open values during a rotation.
 * @throws RangeError when a key is not 32 bytes.
 */
export function createSecretBox(key: Buffer, previousKeys: Buffer[] = []): SecretBox {
  for (const k of [key, ...previousKeys]) if (k.length !== 32) throw new RangeError('AES-256 keys are 32 bytes');
  const keys = new Map([key, ...previousKeys].map((k) => [keyIdOf(k), k] as const));
  const currentId = keyIdOf(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', currentId, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
    },
    needsReseal(sealed) {
      return !sealed.startsWith(`v1.${currentId}.`);
    },
    open(sealed) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      const k = keyId ? keys.get(keyId) : undefined;
      if (version !== 'v1' || !k || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new SecretDecryptionError('The stored secret was sealed with an unknown key or format.');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptionError('The stored secret could not be decrypted (altered, or the wrong key).');
      }
    },
  };
}
