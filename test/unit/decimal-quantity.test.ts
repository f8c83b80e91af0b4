import fc from 'fast-check';
import { canonicalQuantity, sumQuantities } from '../../server/metering/decimal-quantity';

/** Exact decimal quantities: what the usage API accepts, how it writes them, and sums with no float in them. */
describe('canonicalQuantity', () => {
  it.each([
    ['12.5', '12.5'],
    ['007.500', '7.5'],
    ['0', '0'],
    ['0.000001', '0.000001'],
    [' 3 ', '3'],
    [12.25, '12.25'],
    [0, '0'],
    [9007199254740991, '9007199254740991'],
    ['999999999999999999.999999', '999999999999999999.999999'],
  ])('when %p is given, then it reads as %p', (given, expected) => {
    expect(canonicalQuantity(given)).toEqual({ ok: true, quantity: expected });
  });

  it.each([
    ['-1', /negative/],
    [-0.5, /negative/],
    ['1.0000001', /6 after/],
    [0.1 + 0.2, /6 after/],
    [1e-7, /6 after/],
    [2 ** 53, /decimal string/],
    [Number.NaN, /finite/],
    ['1e3', /decimal/],
    ['1,5', /decimal/],
    ['', /decimal/],
    ['1234567890123456789', /18 digits/],
    [true, /decimal string or a number/],
    [null, /decimal string or a number/],
  ])('when %p is given, then it is refused (%p)', (given, problem) => {
    const result = canonicalQuantity(given);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toMatch(problem);
  });
});

describe('sumQuantities', () => {
  it('when any decimals with up to 6 places are summed, then the result is exact (checked against integer millionths)', () => {
    const micros = fc.bigInt({ min: 0n, max: 10n ** 24n - 1n });
    fc.assert(
      fc.property(fc.array(micros, { maxLength: 50 }), (values) => {
        const asText = values.map((v) => `${v / 1_000_000n}.${(v % 1_000_000n).toString().padStart(6, '0')}`);
        const total = values.reduce((a, b) => a + b, 0n);
        const [whole, fraction = ''] = sumQuantities(asText).split('.');
        expect(BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'))).toBe(total);
        expect(fraction).not.toMatch(/0$/);
      }),
    );
  });

  it('when 0.1 is added ten times, then the sum is 1, not 0.9999999999999999', () => {
    expect(sumQuantities(Array(10).fill('0.1'))).toBe('1');
  });
});
