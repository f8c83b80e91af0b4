/**
 * Verifies that a webhook delivery was signed by HighLevel.
 *
 * HighLevel signs the raw request body: `x-ghl-signature` is a base64 Ed25519 signature, and the legacy
 * `x-wh-signature` a base64 RSA-SHA256 signature (deprecated 2026-09-01, still seen). Some deliveries were signed
 * over `JSON.stringify` of the payload rather than the bytes sent (whitespace differs), so when the raw bytes fail
 * we try that re-serialisation once. Source: HighLevel Webhook Integration Guide
 * (GoHighLevel/highlevel-api-docs, docs/oauth/WebhookAuthentication.md).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Which signature proved the delivery. */
export type SignatureScheme = 'ed25519' | 'rsa-sha256';

/** The header values as received (either may be absent). */
export interface SignatureHeaders {
  ghlSignature?: string;
  legacySignature?: string;
}

/** A verifier bound to the configured public keys (PEM). */
export interface WebhookVerifier {
  /**
   * @param rawBody the exact request bytes.
   * @param parsedBody the body parsed as JSON, or undefined if it is not JSON (then only raw bytes are tried).
   * @returns the scheme that verified, or null when no header carries a valid signature.
   */
  verify(rawBody: Buffer, parsedBody: unknown, headers: SignatureHeaders): SignatureScheme | null;
}

/**
 * Builds a verifier. `x-ghl-signature` is tried first; the legacy header only when the Ed25519 one is absent or
 * fails, so a delivery carrying both is accepted by either.
 * @throws when a key is not a PEM public key (config validation normally catches this first).
 */
export function createWebhookVerifier(keys: { ed25519Pem: string; rsaPem: string }): WebhookVerifier {
  const ed25519 = createPublicKey(keys.ed25519Pem);
  const rsa = createPublicKey(keys.rsaPem);
  return {
    verify(rawBody, parsedBody, headers) {
      const candidates = () => bodiesToTry(rawBody, parsedBody);
      if (headers.ghlSignature && matchesAny(null, ed25519, headers.ghlSignature, candidates())) return 'ed25519';
      if (headers.legacySignature && matchesAny('sha256', rsa, headers.legacySignature, candidates())) return 'rsa-sha256';
      return null;
    },
  };
}

function* bodiesToTry(rawBody: Buffer, parsedBody: unknown): Generator<Buffer> {
  yield rawBody;
  if (parsedBody === undefined) return;
  const reserialised = Buffer.from(JSON.stringify(parsedBody));
  if (!reserialised.equals(rawBody)) yield reserialised;
}

function matchesAny(algorithm: 'sha256' | null, key: KeyObject, signatureB64: string, bodies: Iterable<Buffer>): boolean {
  const signature = Buffer.from(signatureB64.trim(), 'base64');
  if (signature.length === 0) return false;
  for (const body of bodies) {
    try {
      if (verify(algorithm, body, key, signature)) return true;
    } catch {
      // A malformed signature (wrong length for the key) is simply not a match.
    }
  }
  return false;
}
