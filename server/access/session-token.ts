/**
 * The settings page's session: after the SSO payload is decrypted (./sso-payload.ts) the server issues a short-lived
 * bearer token that the page keeps in memory and sends as `Authorization: Bearer …`. No cookies: the page runs in
 * HighLevel's iframe, a third-party context where browsers block or partition them.
 *
 * The token is a JWT (HS256, via `jose`) keyed by a subkey of ENCRYPTION_KEY, so no new secret has to be configured.
 * (jose 6 ships ESM only: Node 20.19+ requires it from CommonJS, and jest.config.js lets SWC transform it.)
 */
import { hkdfSync } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

/** Who the session is for; the same facts as the SSO user, with `activeLocation` null in agency context. */
export interface SessionClaims {
  userId: string;
  companyId: string;
  type: 'agency' | 'location';
  role: string;
  /** The HighLevel location (sub-account) id, or null in agency context. */
  activeLocation: string | null;
  userName?: string;
}

/**
 * Why a token was refused: `missing` (no token), `expired` (past `exp`, beyond the clock tolerance), `invalid`
 * (anything else: malformed, bad signature, another algorithm, wrong issuer, claims of the wrong shape).
 */
export type SessionTokenErrorReason = 'missing' | 'expired' | 'invalid';

/** Thrown by `verify`; `reason` says why. The message never includes the token. */
export class SessionTokenError extends Error {
  override name = 'SessionTokenError';
  constructor(
    readonly reason: SessionTokenErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Issues and verifies session tokens; see `createSessionTokens`. */
export interface SessionTokens {
  /** @returns a signed token for `claims` and when it expires (now + ttl, whole seconds). */
  issue(claims: SessionClaims): Promise<{ token: string; expiresAt: Date }>;
  /**
   * @param token the bearer token (without "Bearer ").
   * @returns the claims it carries.
   * @throws SessionTokenError with reason `missing`, `expired` or `invalid`.
   */
  verify(token: string | undefined): Promise<SessionClaims>;
}

const HKDF_INFO = 'meterbridge/session-token/v1';
const ALGORITHM = 'HS256';
const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * The HS256 key for session tokens: HKDF-SHA256 over ENCRYPTION_KEY (no salt, info "meterbridge/session-token/v1"),
 * 32 bytes. Deterministic, so every instance of the service derives the same key; a different ENCRYPTION_KEY yields a
 * different one (and rotating ENCRYPTION_KEY ends every open session).
 * @param encryptionKey the 32-byte ENCRYPTION_KEY (Config.encryptionKey).
 * @throws RangeError when the key is empty.
 */
export function deriveSessionKey(encryptionKey: Buffer): Uint8Array {
  if (encryptionKey.length === 0) throw new RangeError('The encryption key is empty');
  return new Uint8Array(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), HKDF_INFO, 32));
}

const id = z.string().min(1).max(200);
/** The payload a session token must carry (registered claims are checked by jose); a location session names its location. */
const claimsSchema = z.object({
  sub: id,
  companyId: id,
  type: z.enum(['agency', 'location']),
  role: z.string().max(200),
  activeLocation: id.nullable(),
  userName: z.string().max(500).optional(),
}).refine((claims) => claims.type !== 'location' || claims.activeLocation !== null, { path: ['activeLocation'] });

/**
 * @param options.key the HS256 key, normally `deriveSessionKey(config.encryptionKey)` (at least 32 bytes).
 * @param options.ttlSeconds token lifetime in seconds; default 3600.
 * @param options.issuer the `iss` claim set and required; default 'meterbridge'.
 * @param options.now the clock (tests inject one); default `() => new Date()`.
 * @throws RangeError when the key is shorter than 32 bytes or the ttl is not a positive number of seconds.
 */
export function createSessionTokens(options: {
  key: Uint8Array;
  ttlSeconds?: number;
  issuer?: string;
  now?: () => Date;
}): SessionTokens {
  const { key, ttlSeconds = 3600, issuer = 'meterbridge', now = () => new Date() } = options;
  if (key.length < 32) throw new RangeError('The session key must be at least 32 bytes');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError('ttlSeconds must be a positive number');
  const nowSeconds = () => Math.floor(now().getTime() / 1000);

  return {
    async issue(claims) {
      const iat = nowSeconds();
      const exp = iat + Math.ceil(ttlSeconds);
      const payload: Record<string, unknown> = {
        companyId: claims.companyId,
        type: claims.type,
        role: claims.role,
        activeLocation: claims.activeLocation,
      };
      if (claims.userName !== undefined) payload.userName = claims.userName;
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(issuer)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: new Date(exp * 1000) };
    },

    async verify(token) {
      if (token === undefined || token.trim() === '') throw new SessionTokenError('missing', 'No session token.');
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token.trim(), key, {
          algorithms: [ALGORITHM],
          issuer,
          requiredClaims: ['exp', 'iat', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: now(),
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new SessionTokenError('expired', 'The session token has expired.');
        throw new SessionTokenError('invalid', 'The session token is not valid.');
      }
      const parsed = claimsSchema.safeParse(payload);
      if (!parsed.success) throw new SessionTokenError('invalid', 'The session token does not carry a session.');
      const { sub, companyId, type, role, activeLocation, userName } = parsed.data;
      return { userId: sub, companyId, type, role, activeLocation, ...(userName !== undefined ? { userName } : {}) };
    },
  };
}
