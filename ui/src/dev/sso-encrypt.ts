/**
 * HighLevel's side of custom-page SSO, in the browser, for the development host: what
 * `CryptoJS.AES.encrypt(JSON.stringify(user), sharedSecret).toString()` returns, i.e. base64 of
 * "Salted__" ‖ 8-byte salt ‖ AES-256-CBC (PKCS#7) ciphertext, key and IV from EVP_BytesToKey (MD5, one round).
 * The server decrypts it exactly as it decrypts HighLevel's (server/access/sso-payload.ts).
 */
import { md5 } from './md5';

const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Encrypts `user` with the app's Shared Secret, as HighLevel does. `salt` (8 bytes) is random unless given. */
export async function encryptSsoPayload(user: object, sharedSecret: string, salt = crypto.getRandomValues(new Uint8Array(8))): Promise<string> {
  const passphrase = new TextEncoder().encode(sharedSecret);
  let derived: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let previous: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  while (derived.length < 48) {
    previous = md5(concat(previous, passphrase, salt));
    derived = concat(derived, previous);
  }
  const key = await crypto.subtle.importKey('raw', derived.slice(0, 32), 'AES-CBC', false, ['encrypt']);
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: derived.slice(32, 48) }, key, new TextEncoder().encode(JSON.stringify(user))));
  const bytes = concat(new TextEncoder().encode('Salted__'), salt, ciphertext);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
