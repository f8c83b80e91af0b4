/**
 * countSmsSegments answers GSM-7 basic text itself and hands the rest to Twilio's calculator: on any text, its
 * answer must be the calculator's.
 */
import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { countSmsSegments } from '../../server/metering/sms-segments';

const calculator = (body: string) => {
  const m = new SegmentedMessage(body);
  return { segments: Math.max(1, m.segmentsCount), encoding: m.encodingName };
};

/** Characters from each class the rules treat differently: basic GSM-7, its extension (two septets), UCS-2, emoji. */
const BASIC = 'abcXYZ019 .,!?@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"#¤%&\'()*+-/:;<=>¡ÄÖÑÜ§¿äöñüà\n\r';
const EXTENSION = '^{}\\[~]|€\f';
const UNICODE = 'çáíóúâêôãõœ“”‘’–—…·ąęłśźżđ中文';
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧', '🇺🇸'];
const char = fc.oneof(
  { arbitrary: fc.constantFrom(...BASIC), weight: 20 },
  { arbitrary: fc.constantFrom(...EXTENSION), weight: 2 },
  { arbitrary: fc.constantFrom(...UNICODE), weight: 1 },
  { arbitrary: fc.constantFrom(...EMOJI), weight: 1 },
);

describe('countSmsSegments', () => {
  it.each([
    ['', 1, 'GSM-7'],
    ['a'.repeat(160), 1, 'GSM-7'],
    ['a'.repeat(161), 2, 'GSM-7'],
    ['a'.repeat(306), 2, 'GSM-7'],
    ['a'.repeat(307), 3, 'GSM-7'],
    ['€'.repeat(80), 1, 'GSM-7'],
    ['€'.repeat(81), 2, 'GSM-7'],
    ['ç'.repeat(70), 1, 'UCS-2'],
    ['ç'.repeat(71), 2, 'UCS-2'],
  ])('when the body is %j, then it is %i segment(s) of %s', (body, segments, encoding) => {
    expect(countSmsSegments(body)).toEqual({ segments, encoding });
  });

  it('when the text is anything — mostly GSM-7, with extension characters, Unicode and emoji mixed in — then the answer is the calculator’s', () => {
    fc.assert(
      fc.property(fc.array(char, { maxLength: 480 }).map((chars) => chars.join('')), (body) => {
        expect(countSmsSegments(body)).toEqual(calculator(body));
      }),
      { numRuns: 2000 },
    );
  });

  it('when the text is GSM-7 basic only, at any length around the segment boundaries, then the answer is the calculator’s', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...BASIC), { minLength: 140, maxLength: 640 }).map((chars) => chars.join('')), (body) => {
        expect(countSmsSegments(body)).toEqual(calculator(body));
      }),
      { numRuns: 1000 },
    );
  });
});
