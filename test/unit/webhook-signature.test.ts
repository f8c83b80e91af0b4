import { createPublicKey } from 'node:crypto';
import { HIGHLEVEL_ED25519_PUBLIC_KEY, HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY } from '../../server/highlevel/published-keys';
import { createWebhookVerifier, type SignatureHeaders, type WebhookVerifier } from '../../server/highlevel/webhook-signature';
import { fixture, makeSigningKeys, type SigningKeys } from '../support/highlevel-fixtures';

let keys: SigningKeys;
let other: SigningKeys;
let verifier: WebhookVerifier;

beforeAll(() => {
  keys = makeSigningKeys();
  other = makeSigningKeys();
  verifier = createWebhookVerifier({ ed25519Pem: keys.ed25519PublicPem, rsaPem: keys.rsaPublicPem });
});

const payload = () => ({ ...fixture('sms-outbound'), webhookId: 'sig-test-1' });
/** The compact JSON bytes HighLevel signs, and what they parse to. */
const compact = () => {
  const parsed = payload();
  return { raw: Buffer.from(JSON.stringify(parsed)), parsed };
};

function flipByte(body: Buffer, index: number): Buffer {
  const copy = Buffer.from(body);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

describe('createWebhookVerifier', () => {
  it('when x-ghl-signature is a valid Ed25519 signature of the raw body, then it verifies as ed25519', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: keys.signEd25519(raw) })).toBe('ed25519');
    expect(verifier.verify(raw, undefined, { ghlSignature: keys.signEd25519(raw) })).toBe('ed25519');
  });

  it('when only the legacy x-wh-signature is a valid RSA-SHA256 signature, then it verifies as rsa-sha256', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { legacySignature: keys.signRsa(raw) })).toBe('rsa-sha256');
    expect(verifier.verify(raw, undefined, { legacySignature: keys.signRsa(raw) })).toBe('rsa-sha256');
  });

  it('when both headers are valid, then Ed25519 is the scheme reported', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: keys.signEd25519(raw), legacySignature: keys.signRsa(raw) })).toBe('ed25519');
  });

  it('when the Ed25519 signature is bad but the RSA one is good, then it verifies as rsa-sha256', () => {
    const { raw, parsed } = compact();
    const headers = { ghlSignature: other.signEd25519(raw), legacySignature: keys.signRsa(raw) };
    expect(verifier.verify(raw, parsed, headers)).toBe('rsa-sha256');
  });

  it('when the Ed25519 signature is good but the RSA one is bad, then it verifies as ed25519', () => {
    const { raw, parsed } = compact();
    const headers = { ghlSignature: keys.signEd25519(raw), legacySignature: other.signRsa(raw) };
    expect(verifier.verify(raw, parsed, headers)).toBe('ed25519');
  });

  it('when the signatures were made with another key pair, then nothing verifies', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: other.signEd25519(raw) })).toBeNull();
    expect(verifier.verify(raw, parsed, { legacySignature: other.signRsa(raw) })).toBeNull();
    expect(verifier.verify(raw, parsed, { ghlSignature: other.signEd25519(raw), legacySignature: other.signRsa(raw) })).toBeNull();
  });

  it('when each signature is sent in the other scheme’s header, then nothing verifies', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: keys.signRsa(raw), legacySignature: keys.signEd25519(raw) })).toBeNull();
  });

  it('when no signature header is present, then nothing verifies', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, {})).toBeNull();
  });

  it.each([
    ['the first byte', 0],
    ['a byte in the middle', 40],
    ['the last byte', -1],
  ])('when %s of the body is flipped after signing, then neither scheme verifies', (_where, at) => {
    const { raw } = compact();
    const headers = { ghlSignature: keys.signEd25519(raw), legacySignature: keys.signRsa(raw) };
    const tampered = flipByte(raw, at < 0 ? raw.length + at : at);
    expect(tampered.equals(raw)).toBe(false);
    expect(verifier.verify(tampered, undefined, headers)).toBeNull();
  });

  it('when a signed field is changed and the change is re-serialised, then it does not verify', () => {
    const { raw, parsed } = compact();
    const changed = { ...parsed, body: 'Send me 1000 free SMS' };
    const changedRaw = Buffer.from(JSON.stringify(changed));
    const headers = { ghlSignature: keys.signEd25519(raw), legacySignature: keys.signRsa(raw) };
    expect(verifier.verify(changedRaw, changed, headers)).toBeNull();
  });

  const malformed: Array<[string, (s: SigningKeys, raw: Buffer) => string]> = [
    ['empty', () => ''],
    ['only whitespace', () => '   '],
    ['garbage text', () => '!!!not base64'],
    ['"N/A"', () => 'N/A'],
    ['base64 of 1 byte', () => Buffer.alloc(1, 1).toString('base64')],
    ['base64 of 63 bytes', () => Buffer.alloc(63, 7).toString('base64')],
    ['base64 of 64 zero bytes', () => Buffer.alloc(64).toString('base64')],
    ['base64 of 65 bytes', () => Buffer.alloc(65, 7).toString('base64')],
    ['base64 of 255 bytes', () => Buffer.alloc(255, 7).toString('base64')],
    ['base64 of 100 kB', () => Buffer.alloc(100_000, 7).toString('base64')],
    ['a valid signature cut short', (s, raw) => s.signEd25519(raw).slice(0, 40)],
    ['a valid signature with bytes appended', (s, raw) => Buffer.concat([Buffer.from(s.signEd25519(raw), 'base64'), Buffer.from([0])]).toString('base64')],
    ['a hex signature', (s, raw) => Buffer.from(s.signEd25519(raw), 'base64').toString('hex')],
  ];

  it.each(malformed)('when the Ed25519 signature is %s, then it does not verify and does not throw', (_what, make) => {
    const { raw, parsed } = compact();
    const headers: SignatureHeaders = { ghlSignature: make(keys, raw) };
    expect(() => verifier.verify(raw, parsed, headers)).not.toThrow();
    expect(verifier.verify(raw, parsed, headers)).toBeNull();
  });

  it.each(malformed)('when the RSA signature is %s, then it does not verify and does not throw', (_what, make) => {
    const { raw, parsed } = compact();
    const headers: SignatureHeaders = { legacySignature: make(keys, raw) };
    expect(() => verifier.verify(raw, parsed, headers)).not.toThrow();
    expect(verifier.verify(raw, parsed, headers)).toBeNull();
  });

  it('when the Ed25519 header is malformed but the RSA one is valid, then it still verifies as rsa-sha256', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: Buffer.alloc(63).toString('base64'), legacySignature: keys.signRsa(raw) })).toBe(
      'rsa-sha256',
    );
  });

  it('when a valid signature arrives with surrounding whitespace, then it still verifies', () => {
    const { raw, parsed } = compact();
    expect(verifier.verify(raw, parsed, { ghlSignature: ` ${keys.signEd25519(raw)}\n` })).toBe('ed25519');
  });

  it('when the compact JSON was signed but a pretty-printed body is sent with its parsed form, then it verifies', () => {
    const { raw, parsed } = compact();
    const pretty = Buffer.from(JSON.stringify(parsed, null, 2));
    expect(pretty.equals(raw)).toBe(false);
    expect(verifier.verify(pretty, JSON.parse(pretty.toString()), { ghlSignature: keys.signEd25519(raw) })).toBe('ed25519');
    expect(verifier.verify(pretty, JSON.parse(pretty.toString()), { legacySignature: keys.signRsa(raw) })).toBe('rsa-sha256');
  });

  it('when the compact JSON was signed but a pretty-printed body is sent without a parsed form, then it does not verify', () => {
    const { raw } = compact();
    const pretty = Buffer.from(JSON.stringify(JSON.parse(raw.toString()), null, 2));
    expect(verifier.verify(pretty, undefined, { ghlSignature: keys.signEd25519(raw) })).toBeNull();
    expect(verifier.verify(pretty, undefined, { legacySignature: keys.signRsa(raw) })).toBeNull();
  });

  it('when a key is not a PEM public key, then building the verifier throws', () => {
    expect(() => createWebhookVerifier({ ed25519Pem: 'not a key', rsaPem: keys.rsaPublicPem })).toThrow();
    expect(() => createWebhookVerifier({ ed25519Pem: keys.ed25519PublicPem, rsaPem: '' })).toThrow();
  });
});

describe("HighLevel's published webhook keys", () => {
  it('when loaded, then the x-ghl-signature key is an Ed25519 key and the legacy key a 4096-bit RSA key', () => {
    const ed25519 = createPublicKey(HIGHLEVEL_ED25519_PUBLIC_KEY);
    expect(ed25519.type).toBe('public');
    expect(ed25519.asymmetricKeyType).toBe('ed25519');
    const rsa = createPublicKey(HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY);
    expect(rsa.asymmetricKeyType).toBe('rsa');
    expect(rsa.asymmetricKeyDetails?.modulusLength).toBe(4096);
  });

  it('when a verifier is built with them, then it does not throw and rejects signatures made with a test key', () => {
    let published: WebhookVerifier | undefined;
    expect(() => {
      published = createWebhookVerifier({ ed25519Pem: HIGHLEVEL_ED25519_PUBLIC_KEY, rsaPem: HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY });
    }).not.toThrow();
    const { raw, parsed } = compact();
    expect(published!.verify(raw, parsed, { ghlSignature: keys.signEd25519(raw), legacySignature: keys.signRsa(raw) })).toBeNull();
  });
});
