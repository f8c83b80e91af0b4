import { decryptSsoPayload, SsoPayloadError, type SsoPayloadErrorReason } from '../../server/access/sso-payload';
import { encryptSsoPayload, saltOf } from '../support/highlevel-sso';

const SECRET = 'meterbridge-test-shared-secret-0001';
const FIXED_SALT = Buffer.from('0123456789abcdef', 'hex');

const agencyUser = {
  userId: 'aF3kQ9wP2xLm7NbV1cZt',
  companyId: 'Xq4rT8yU1iO3pA5sD7fG',
  role: 'admin',
  type: 'agency',
  userName: 'Agency Owner',
  email: 'owner@example.com',
};
const locationUser = {
  userId: 'aF3kQ9wP2xLm7NbV1cZt',
  companyId: 'Xq4rT8yU1iO3pA5sD7fG',
  role: 'admin',
  type: 'location',
  activeLocation: 'Lk9Jh7Gf5Ds3Aq1Wz2Ex',
  userName: 'Zoë Ångström',
  email: 'zoe@example.com',
};

/**
 * Known vectors made by crypto-js 4.2.0 itself (`CryptoJS.AES.encrypt(JSON.stringify(user), SECRET).toString()`,
 * random salt), in a throwaway script outside the project: they pin the format to CryptoJS's, not to our helper's.
 */
const CRYPTOJS_LOCATION_VECTOR =
  'U2FsdGVkX193V+KN4vjIw5Vl5ym2ZhvsZhGYCPbIjR5mVvDLABXje2ouQ0tk9iDfIhOCQNuI9suHkJ5zmaUwgnTMCJNaApu6xACS7+r07R0pfNDd5NyrZ3cl2VT++IYCIUI2VdiJGbkTmqP5xNSghMpS92eB9GrfgpVXlg6BlBYX7hfPtUSJnzdxIKO4B6gK9PTic/DW0HiYbF5+aC6RUcz4alwiRUDoJeDwEoI3wiqCW9HbOmPPt7pEnbBHG5Mu9F7wSf8IdfNgqx2dx2ATTr6h4B84DAdrrirUu3zNBPM=';
const CRYPTOJS_AGENCY_VECTOR =
  'U2FsdGVkX19ofvx5GIL9BERrLOhiSXXiBgfLNA4Us79joLQ+le3wO7OWHhbNSGb1OEE/+fJ7uuwKkIOAESB8AFURVpRGRG8Zf0VsDDRzPEniKIujKHor+KA2YMNv5cLCKKW44ZzjqdGJcuNY4iXXcE1+7s4wix+eAGJ9cQchkTpw4PZNX5RkRAW7+KWg+3vxgrPPfkhqZulISCUfFgUko8UMu3TeTo4jLGotQc0JCag=';

/** The SsoPayloadError `fn` throws (fails the test when it throws anything else, or nothing). */
function caught(fn: () => unknown): SsoPayloadError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SsoPayloadError);
    return error as SsoPayloadError;
  }
  throw new Error('expected an SsoPayloadError, but nothing was thrown');
}

function flipDecodedByte(payload: string, index: number): string {
  const bytes = Buffer.from(payload, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

describe('decryptSsoPayload', () => {
  it('when an agency user is encrypted with the Shared Secret, then it decrypts to that user', () => {
    expect(decryptSsoPayload(encryptSsoPayload(agencyUser, SECRET), SECRET)).toEqual(agencyUser);
  });

  it('when a location user is encrypted with the Shared Secret, then it decrypts to that user with its activeLocation', () => {
    const user = decryptSsoPayload(encryptSsoPayload(locationUser, SECRET), SECRET);
    expect(user).toEqual(locationUser);
    expect(user.activeLocation).toBe('Lk9Jh7Gf5Ds3Aq1Wz2Ex');
  });

  it('when the payload was produced by crypto-js itself, then it decrypts to the user', () => {
    expect(decryptSsoPayload(CRYPTOJS_LOCATION_VECTOR, SECRET)).toEqual(locationUser);
    expect(decryptSsoPayload(CRYPTOJS_AGENCY_VECTOR, SECRET)).toEqual(agencyUser);
  });

  it('when the test helper is given the salt of a crypto-js vector, then it reproduces that vector byte for byte', () => {
    expect(encryptSsoPayload(locationUser, SECRET, saltOf(CRYPTOJS_LOCATION_VECTOR))).toBe(CRYPTOJS_LOCATION_VECTOR);
    expect(encryptSsoPayload(agencyUser, SECRET, saltOf(CRYPTOJS_AGENCY_VECTOR))).toBe(CRYPTOJS_AGENCY_VECTOR);
  });

  it('when the payload carries fields beyond the documented ones, then they are accepted and not returned', () => {
    const user = decryptSsoPayload(encryptSsoPayload({ ...agencyUser, isAgencyOwner: true, extra: { a: 1 } }, SECRET), SECRET);
    expect(user).toEqual(agencyUser);
    expect(user).not.toHaveProperty('isAgencyOwner');
  });

  it('when the userName is non-ASCII, then it survives the round trip unchanged', () => {
    const userName = 'Zoë Ångström 日本語 🚀';
    expect(decryptSsoPayload(encryptSsoPayload({ ...agencyUser, userName }, SECRET), SECRET).userName).toBe(userName);
  });

  it('when the payload was encrypted with another Shared Secret, then it is refused as wrong_secret', () => {
    for (const salt of [FIXED_SALT, Buffer.alloc(8), Buffer.alloc(8, 0xff)]) {
      const error = caught(() => decryptSsoPayload(encryptSsoPayload(agencyUser, 'another-shared-secret', salt), SECRET));
      expect(error.reason).toBe('wrong_secret');
    }
    expect(caught(() => decryptSsoPayload(CRYPTOJS_LOCATION_VECTOR, `${SECRET}x`)).reason).toBe('wrong_secret');
  });

  it('when a ciphertext byte is flipped anywhere, then it is refused (wrong_secret or malformed) and nothing else is thrown', () => {
    const payload = encryptSsoPayload(locationUser, SECRET, FIXED_SALT);
    const length = Buffer.from(payload, 'base64').length;
    const reasons = new Set<SsoPayloadErrorReason>();
    for (let index = 16; index < length; index++) {
      reasons.add(caught(() => decryptSsoPayload(flipDecodedByte(payload, index), SECRET)).reason);
    }
    expect([...reasons].every((reason) => reason === 'wrong_secret' || reason === 'malformed')).toBe(true);
  });

  it('when the salt or the header is altered, then it is refused and nothing else is thrown', () => {
    const payload = encryptSsoPayload(locationUser, SECRET, FIXED_SALT);
    expect(caught(() => decryptSsoPayload(flipDecodedByte(payload, 10), SECRET)).reason).toBe('wrong_secret');
    expect(caught(() => decryptSsoPayload(flipDecodedByte(payload, 0), SECRET)).reason).toBe('malformed');
  });

  it.each([
    ['empty', ''],
    ['only whitespace', '   '],
    ['not base64', '!!! definitely not base64 !!!'],
    ['base64url rather than base64', encryptSsoPayload(locationUser, SECRET, FIXED_SALT).replace(/\+/g, '-').replace(/\//g, '_')],
    ['base64 with a character missing', CRYPTOJS_LOCATION_VECTOR.slice(1)],
    ['base64 without the Salted__ header', Buffer.alloc(64, 7).toString('base64')],
    ['the Salted__ header alone', Buffer.from('Salted__').toString('base64')],
    ['the header and a salt but no ciphertext', Buffer.concat([Buffer.from('Salted__'), FIXED_SALT]).toString('base64')],
    ['a ciphertext that is not whole AES blocks', Buffer.concat([Buffer.from('Salted__'), FIXED_SALT, Buffer.alloc(20)]).toString('base64')],
    ['20 KB of base64', Buffer.concat([Buffer.from('Salted__'), FIXED_SALT, Buffer.alloc(15_000)]).toString('base64')],
    ['a JSON object rather than a string', { ct: 'abc' } as unknown as string],
  ])('when the payload is %s, then it is refused as malformed', (_what, payload) => {
    expect(caught(() => decryptSsoPayload(payload, SECRET)).reason).toBe('malformed');
  });

  it('when the payload has surrounding whitespace, then it still decrypts', () => {
    expect(decryptSsoPayload(`  ${CRYPTOJS_AGENCY_VECTOR}\n`, SECRET)).toEqual(agencyUser);
  });

  it('when a location user has no activeLocation, then it is refused as invalid_user naming activeLocation', () => {
    const { activeLocation: _omitted, ...withoutLocation } = locationUser;
    const error = caught(() => decryptSsoPayload(encryptSsoPayload(withoutLocation, SECRET), SECRET));
    expect(error.reason).toBe('invalid_user');
    expect(error.message).toContain('activeLocation');
  });

  it('when an agency user has no activeLocation, then it is accepted', () => {
    expect(decryptSsoPayload(encryptSsoPayload(agencyUser, SECRET), SECRET).activeLocation).toBeUndefined();
  });

  it('when companyId is missing, then it is refused as invalid_user naming companyId', () => {
    const { companyId: _omitted, ...withoutCompany } = agencyUser;
    const error = caught(() => decryptSsoPayload(encryptSsoPayload(withoutCompany, SECRET), SECRET));
    expect(error.reason).toBe('invalid_user');
    expect(error.message).toContain('companyId');
  });

  it.each([
    ['userId is empty', { ...agencyUser, userId: '' }, 'userId'],
    ['userId is longer than 200 characters', { ...agencyUser, userId: 'a'.repeat(201) }, 'userId'],
    ['companyId is a number', { ...agencyUser, companyId: 42 }, 'companyId'],
    ['type is neither agency nor location', { ...agencyUser, type: 'account' }, 'type'],
    ['role is missing', { ...agencyUser, role: undefined }, 'role'],
  ])('when %s, then it is refused as invalid_user naming the field', (_what, user, field) => {
    const error = caught(() => decryptSsoPayload(encryptSsoPayload(user, SECRET), SECRET));
    expect(error.reason).toBe('invalid_user');
    expect(error.message).toContain(field);
  });

  it('when the decrypted JSON is not an object, then it is refused as invalid_user', () => {
    for (const value of [[1, 2], 'a string', null]) {
      // JSON.stringify(value) is what HighLevel would encrypt; wrap it so the helper's `object` type accepts it.
      const payload = encryptSsoPayload({ toJSON: () => value }, SECRET);
      expect(caught(() => decryptSsoPayload(payload, SECRET)).reason).toBe('invalid_user');
    }
  });

  it('when a payload is refused, then the error message does not echo the payload or the secret', () => {
    const payload = encryptSsoPayload({ ...agencyUser, companyId: '' }, SECRET);
    for (const error of [caught(() => decryptSsoPayload(payload, SECRET)), caught(() => decryptSsoPayload(payload, 'other'))]) {
      expect(error.message).not.toContain(payload);
      expect(error.message).not.toContain(SECRET);
    }
  });
});
