/**
 * HighLevel custom-page SSO. The settings page runs in an iframe inside HighLevel; it posts
 * `{ message: 'REQUEST_USER_DATA' }` to its parent and receives `{ message: 'REQUEST_USER_DATA_RESPONSE', payload }`.
 * `payload` is CryptoJS "passphrase" AES output, keyed with the app's Shared Secret (HIGHLEVEL_SHARED_SECRET):
 *
 *   base64( "Salted__" ‖ salt (8 bytes) ‖ AES-256-CBC ciphertext, PKCS#7-padded )
 *
 * with key (32 bytes) and IV (16 bytes) from OpenSSL's EVP_BytesToKey (MD5, one iteration) over passphrase ‖ salt.
 * Source: HighLevel's "User Context for Marketplace Apps" guide (marketplace.gohighlevel.com/docs/other/
 * user-context-marketplace-apps), whose reference backend is `CryptoJS.AES.decrypt(payload, sharedSecret)`.
 *
 * Why no library: crypto-js is discontinued by its maintainers, and node:crypto does AES-256-CBC natively; the only
 * missing piece, EVP_BytesToKey, is a few lines of MD5.
 *
 * Note: CBC without a MAC is not tamper-evident. An altered payload almost always fails the padding, UTF-8 or JSON
 * checks below (reported as `wrong_secret`), but that is not a guarantee; the format is HighLevel's, not ours.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { z } from 'zod';

/** The longest payload accepted, in characters of base64 (a real one is well under 1 KB). */
const MAX_PAYLOAD_CHARS = 16 * 1024;
const SALTED_HEADER = Buffer.from('Salted__', 'latin1');
const SALT_BYTES = 8;
const AES_BLOCK_BYTES = 16;
const KEY_BYTES = 32;
const IV_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const id = z.string().min(1).max(200);

/**
 * The decrypted SSO user, as HighLevel documents it. Unknown fields (e.g. `isAgencyOwner`) are accepted and dropped.
 * `activeLocation` is the sub-account (location) id: required when `type` is 'location', usually absent for 'agency'.
 */
export const ssoUserSchema = z
  .object({
    userId: id,
    companyId: id,
    role: z.string().max(200),
    type: z.enum(['agency', 'location']),
    userName: z.string().max(500).optional(),
    email: z.string().max(500).optional(),
    activeLocation: id.optional(),
  })
  .superRefine((user, ctx) => {
    if (user.type === 'location' && user.activeLocation === undefined) {
      ctx.addIssue({ code: 'custom', path: ['activeLocation'], message: 'is required when type is "location"' });
    }
  });

/** A user HighLevel vouched for: who (userId), in which agency (companyId) and, in a location, which sub-account. */
export type SsoUser = z.infer<typeof ssoUserSchema>;

/**
 * Why a payload was refused:
 * - `malformed`: not base64, too long (> 16 KB), no "Salted__" header, or too short to hold a ciphertext;
 * - `wrong_secret`: the padding, UTF-8 or JSON did not come out right after decryption, the usual sign that
 *   HighLevel encrypted it with a different Shared Secret (or that it was altered);
 * - `invalid_user`: it decrypted to JSON that is not an SSO user; the message names the field.
 */
export type SsoPayloadErrorReason = 'malformed' | 'wrong_secret' | 'invalid_user';

/** Thrown by `decryptSsoPayload`; `reason` says which check failed. The message never includes the payload. */
export class SsoPayloadError extends Error {
  override name = 'SsoPayloadError';
  constructor(
    readonly reason: SsoPayloadErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OpenSSL's EVP_BytesToKey with MD5 and one iteration, as CryptoJS uses it:
 * D_1 = MD5(passphrase ‖ salt), D_i = MD5(D_{i-1} ‖ passphrase ‖ salt); key ‖ iv = the first 48 bytes of D_1 ‖ D_2 ‖ …
 */
function evpBytesToKey(passphrase: Buffer, salt: Buffer): { key: Buffer; iv: Buffer } {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  let length = 0;
  while (length < KEY_BYTES + IV_BYTES) {
    previous = createHash('md5').update(previous).update(passphrase).update(salt).digest();
    blocks.push(previous);
    length += previous.length;
  }
  const derived = Buffer.concat(blocks);
  return { key: derived.subarray(0, KEY_BYTES), iv: derived.subarray(KEY_BYTES, KEY_BYTES + IV_BYTES) };
}

/**
 * Decrypts and validates the SSO payload HighLevel hands the custom page.
 * @param payload the `payload` of the REQUEST_USER_DATA_RESPONSE message (base64 text, at most 16 KB).
 * @param sharedSecret the app's Shared Secret (HIGHLEVEL_SHARED_SECRET), used as the CryptoJS passphrase (UTF-8).
 * @returns the user, with only the fields of `ssoUserSchema`.
 * @throws SsoPayloadError with reason `malformed`, `wrong_secret` or `invalid_user` (see `SsoPayloadErrorReason`).
 */
export function decryptSsoPayload(payload: string, sharedSecret: string): SsoUser {
  if (typeof payload !== 'string' || payload.length > MAX_PAYLOAD_CHARS) {
    throw new SsoPayloadError('malformed', 'The SSO payload is missing or too long.');
  }
  const text = payload.trim();
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new SsoPayloadError('malformed', 'The SSO payload is not base64.');
  }
  const raw = Buffer.from(text, 'base64');
  if (raw.length < SALTED_HEADER.length || !raw.subarray(0, SALTED_HEADER.length).equals(SALTED_HEADER)) {
    throw new SsoPayloadError('malformed', 'The SSO payload does not start with the "Salted__" header.');
  }
  const salt = raw.subarray(SALTED_HEADER.length, SALTED_HEADER.length + SALT_BYTES);
  const ciphertext = raw.subarray(SALTED_HEADER.length + SALT_BYTES);
  if (salt.length !== SALT_BYTES || ciphertext.length === 0 || ciphertext.length % AES_BLOCK_BYTES !== 0) {
    throw new SsoPayloadError('malformed', 'The SSO payload is too short or not a whole number of AES blocks.');
  }

  const { key, iv } = evpBytesToKey(Buffer.from(sharedSecret, 'utf8'), salt);
  let json: unknown;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new SsoPayloadError('wrong_secret', 'The SSO payload did not decrypt with the Shared Secret (a different secret, or altered).');
  }

  const parsed = ssoUserSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`);
    throw new SsoPayloadError('invalid_user', `The SSO payload is not a HighLevel user: ${problems.join('; ')}`);
  }
  return parsed.data;
}
