/**
 * HighLevel's side of custom-page SSO, for tests that play the parent window: it encrypts a user the way HighLevel
 * does (CryptoJS passphrase AES; see server/access/sso-payload.ts for the format and its source).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * What `CryptoJS.AES.encrypt(JSON.stringify(user), sharedSecret).toString()` returns: base64 of
 * "Salted__" ‖ salt ‖ AES-256-CBC(PKCS#7) ciphertext, key and IV from EVP_BytesToKey(MD5, 1 iteration).
 * @param user serialised with JSON.stringify, as HighLevel sends it.
 * @param sharedSecret the passphrase (the app's Shared Secret), taken as UTF-8.
 * @param salt 8 bytes; random when omitted. A fixed salt makes the output reproducible.
 * @throws RangeError when `salt` is not 8 bytes.
 */
export function encryptSsoPayload(user: object, sharedSecret: string, salt: Buffer = randomBytes(8)): string {
  if (salt.length !== 8) throw new RangeError('The CryptoJS salt is 8 bytes');
  const passphrase = Buffer.from(sharedSecret, 'utf8');
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  while (blocks.length * 16 < 48) {
    previous = createHash('md5').update(previous).update(passphrase).update(salt).digest();
    blocks.push(previous);
  }
  const derived = Buffer.concat(blocks);
  const cipher = createCipheriv('aes-256-cbc', derived.subarray(0, 32), derived.subarray(32, 48));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(user), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from('Salted__', 'latin1'), salt, ciphertext]).toString('base64');
}

/** The salt inside a CryptoJS payload (bytes 8–15 after base64 decoding), to reproduce a known vector. */
export function saltOf(payload: string): Buffer {
  return Buffer.from(payload, 'base64').subarray(8, 16);
}
