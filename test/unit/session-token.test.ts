import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  createSessionTokens,
  deriveSessionKey,
  SessionTokenError,
  type SessionClaims,
  type SessionTokenErrorReason,
} from '../../server/access/session-token';

const ENCRYPTION_KEY = Buffer.alloc(32, 0x2a);
const key = deriveSessionKey(ENCRYPTION_KEY);
const T0 = new Date('2026-03-01T12:00:00Z');

const locationClaims: SessionClaims = {
  userId: 'aF3kQ9wP2xLm7NbV1cZt',
  companyId: 'Xq4rT8yU1iO3pA5sD7fG',
  type: 'location',
  role: 'admin',
  activeLocation: 'Lk9Jh7Gf5Ds3Aq1Wz2Ex',
  userName: 'Zoë Ångström',
};
const agencyClaims: SessionClaims = {
  userId: 'aF3kQ9wP2xLm7NbV1cZt',
  companyId: 'Xq4rT8yU1iO3pA5sD7fG',
  type: 'agency',
  role: 'user',
  activeLocation: null,
};

/** A clock the test moves by hand. */
function clock(start = T0) {
  let current = start.getTime();
  return { now: () => new Date(current), advance: (seconds: number) => (current += seconds * 1000) };
}

/** The reason of the SessionTokenError `promise` rejects with (fails the test on any other outcome). */
async function reasonOf(promise: Promise<unknown>): Promise<SessionTokenErrorReason> {
  const error = await promise.then(
    () => new Error('expected a SessionTokenError, but the token verified'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SessionTokenError);
  return (error as SessionTokenError).reason;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const partsOf = (token: string) => token.split('.') as [string, string, string];
const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** A token signed directly with jose (bypassing `issue`) with the given payload, valid in every other respect. */
function signRaw(payload: Record<string, unknown>, signingKey: Uint8Array = key, at = T0) {
  const iat = Math.floor(at.getTime() / 1000);
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setIssuer('meterbridge').setIssuedAt(iat).setExpirationTime(iat + 600).sign(signingKey);
}

describe('createSessionTokens', () => {
  it('when a location session is issued, then verify returns the same claims and expiresAt is now + ttl', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const { token, expiresAt } = await tokens.issue(locationClaims);
    expect(expiresAt).toEqual(new Date(T0.getTime() + 3600 * 1000));
    expect(await tokens.verify(token)).toEqual(locationClaims);
  });

  it('when an agency session without a userName is issued, then verify returns it with activeLocation null and no userName', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const claims = await tokens.verify((await tokens.issue(agencyClaims)).token);
    expect(claims).toEqual(agencyClaims);
    expect(claims).not.toHaveProperty('userName');
  });

  it('when a token is issued, then it is an HS256 JWT with the issuer, subject, iat and exp', async () => {
    const tokens = createSessionTokens({ key, ttlSeconds: 900, now: clock().now });
    const [header, payload] = partsOf((await tokens.issue(locationClaims)).token);
    expect(decodePart(header)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const iat = T0.getTime() / 1000;
    expect(decodePart(payload)).toMatchObject({ iss: 'meterbridge', sub: locationClaims.userId, iat, exp: iat + 900 });
  });

  it('when the token is verified within its lifetime or up to 30 s after exp, then it verifies', async () => {
    const time = clock();
    const tokens = createSessionTokens({ key, ttlSeconds: 60, now: time.now });
    const { token } = await tokens.issue(locationClaims);
    time.advance(59);
    await expect(tokens.verify(token)).resolves.toEqual(locationClaims);
    time.advance(1 + 29);
    await expect(tokens.verify(token)).resolves.toEqual(locationClaims);
  });

  it('when the token is verified more than 30 s after exp, then it is refused as expired', async () => {
    const time = clock();
    const tokens = createSessionTokens({ key, ttlSeconds: 60, now: time.now });
    const { token } = await tokens.issue(locationClaims);
    time.advance(60 + 31);
    expect(await reasonOf(tokens.verify(token))).toBe('expired');
  });

  it('when the default ttl has passed, then the token is refused as expired', async () => {
    const time = clock();
    const tokens = createSessionTokens({ key, now: time.now });
    const { token } = await tokens.issue(agencyClaims);
    time.advance(3600 + 31);
    expect(await reasonOf(tokens.verify(token))).toBe('expired');
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['only whitespace', '  '],
  ])('when the token is %s, then it is refused as missing', async (_what, token) => {
    const tokens = createSessionTokens({ key });
    expect(await reasonOf(tokens.verify(token))).toBe('missing');
  });

  it('when the payload is changed after signing, then it is refused as invalid', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const [header, payload, signature] = partsOf((await tokens.issue(locationClaims)).token);
    const changed = b64url({ ...decodePart(payload), companyId: 'SomeoneElsesAgency01' });
    expect(await reasonOf(tokens.verify(`${header}.${changed}.${signature}`))).toBe('invalid');
  });

  it('when the signature is altered, truncated or removed, then it is refused as invalid', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const [header, payload, signature] = partsOf((await tokens.issue(locationClaims)).token);
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = bytes[0]! ^ 0x01;
    for (const bad of [bytes.toString('base64url'), signature.slice(0, -4), '']) {
      expect(await reasonOf(tokens.verify(`${header}.${payload}.${bad}`))).toBe('invalid');
    }
  });

  it('when the token was signed with another key, then it is refused as invalid', async () => {
    const time = clock();
    const other = createSessionTokens({ key: deriveSessionKey(randomBytes(32)), now: time.now });
    const tokens = createSessionTokens({ key, now: time.now });
    expect(await reasonOf(tokens.verify((await other.issue(locationClaims)).token))).toBe('invalid');
  });

  it('when the token was issued under another issuer, then it is refused as invalid', async () => {
    const time = clock();
    const other = createSessionTokens({ key, issuer: 'someone-else', now: time.now });
    const tokens = createSessionTokens({ key, now: time.now });
    expect(await reasonOf(tokens.verify((await other.issue(locationClaims)).token))).toBe('invalid');
  });

  it('when an unsigned alg "none" token is crafted by hand, then it is refused as invalid', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const [, payload] = partsOf((await tokens.issue(locationClaims)).token);
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64url({ alg, typ: 'JWT' });
      expect(await reasonOf(tokens.verify(`${header}.${payload}.`))).toBe('invalid');
    }
  });

  it('when a token is signed with HS512 under the same key, then it is refused as invalid (only HS256 is accepted)', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const iat = Math.floor(T0.getTime() / 1000);
    const token = await new SignJWT({ companyId: 'Xq4rT8yU1iO3pA5sD7fG', type: 'agency', role: 'admin', activeLocation: null })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('aF3kQ9wP2xLm7NbV1cZt')
      .setIssuer('meterbridge')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(key);
    expect(await reasonOf(tokens.verify(token))).toBe('invalid');
  });

  it.each([
    ['no companyId', { sub: 'aF3kQ9wP2xLm7NbV1cZt', type: 'agency', role: 'admin', activeLocation: null }],
    ['no subject', { companyId: 'Xq4rT8yU1iO3pA5sD7fG', type: 'agency', role: 'admin', activeLocation: null }],
    ['an unknown type', { sub: 'u', companyId: 'c', type: 'account', role: 'admin', activeLocation: null }],
    ['a location type without activeLocation', { sub: 'u', companyId: 'c', type: 'location', role: 'admin', activeLocation: null }],
    ['no activeLocation key at all', { sub: 'u', companyId: 'c', type: 'agency', role: 'admin' }],
    ['a numeric companyId', { sub: 'u', companyId: 42, type: 'agency', role: 'admin', activeLocation: null }],
  ])('when a correctly signed token carries %s, then it is refused as invalid', async (_what, payload) => {
    const tokens = createSessionTokens({ key, now: clock().now });
    expect(await reasonOf(tokens.verify(await signRaw(payload)))).toBe('invalid');
  });

  it('when a token signed directly with jose carries the right shape, then it verifies (so the refusals above are about the shape)', async () => {
    const tokens = createSessionTokens({ key, now: clock().now });
    const token = await signRaw({ sub: 'u1', companyId: 'c1', type: 'agency', role: 'admin', activeLocation: null });
    await expect(tokens.verify(token)).resolves.toEqual({ userId: 'u1', companyId: 'c1', type: 'agency', role: 'admin', activeLocation: null });
  });

  it.each([
    ['garbage', 'not a jwt'],
    ['two segments', 'a.b'],
    ['four segments', 'a.b.c.d'],
  ])('when the token is %s, then it is refused as invalid', async (_what, token) => {
    const tokens = createSessionTokens({ key });
    expect(await reasonOf(tokens.verify(token))).toBe('invalid');
  });

  it('when the key is shorter than 32 bytes or the ttl is not positive, then creating the issuer throws', () => {
    expect(() => createSessionTokens({ key: new Uint8Array(16) })).toThrow(RangeError);
    expect(() => createSessionTokens({ key, ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => createSessionTokens({ key, ttlSeconds: Number.NaN })).toThrow(RangeError);
  });
});

describe('deriveSessionKey', () => {
  it('when derived twice from the same encryption key, then the key is the same 32 bytes', () => {
    const again = deriveSessionKey(Buffer.alloc(32, 0x2a));
    expect(again).toHaveLength(32);
    expect(Buffer.from(again).equals(Buffer.from(key))).toBe(true);
  });

  it('when derived from different encryption keys, then the keys differ, and neither is the encryption key itself', () => {
    const other = deriveSessionKey(Buffer.alloc(32, 0x2b));
    expect(Buffer.from(other).equals(Buffer.from(key))).toBe(false);
    expect(Buffer.from(key).equals(ENCRYPTION_KEY)).toBe(false);
  });

  it('when derived, then it matches HKDF-SHA256 with info "meterbridge/session-token/v1" (pinned vector)', () => {
    expect(Buffer.from(key).toString('hex')).toBe(PINNED_KEY_HEX);
  });

  it('when the encryption key is empty, then it throws', () => {
    expect(() => deriveSessionKey(Buffer.alloc(0))).toThrow(RangeError);
  });
});

/** HKDF-SHA256(ikm = 32 × 0x2a, salt = empty, info = "meterbridge/session-token/v1", L = 32), computed independently (Python hmac, RFC 5869). */
const PINNED_KEY_HEX = 'cd4b95dc48be20079352ccdc7ccf69ec5cdf6febe2806ee076239d88edd8bef8';
