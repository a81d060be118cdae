import { compareQuantities, parseQuantity } from './quantity';

const q = (s: string | number) => {
  const parsed = parseQuantity(s);
  if (!parsed) throw new Error(`${s} did not parse`);
  return parsed;
};

describe('parseQuantity', () => {
  it.each([
    ['250m', '0.25'],
    ['1', '1'],
    ['0.5', '500m'],
    ['1Ki', '1024'],
    ['1Gi', '1073741824'],
    ['1G', '1000000000'],
    ['1e3', '1k'],
    ['1E-3', '1m'],
    ['.5', '500m'],
    ['1.5Gi', '1536Mi'],
    ['+2', '2'],
    [2, '2000m'],
    ['100n', '0.1u'],
  ])('%s equals %s', (a, b) => {
    expect(compareQuantities(q(a), q(b))).toBe(0);
  });

  it.each(['', '1GB', '1.2.3', 'abc', '1 Gi', '1gi', 'Gi', '--1', '1e', 'NaN'])('refuses %p', (bad) => {
    expect(parseQuantity(bad)).toBeUndefined();
  });

  it('orders quantities exactly', () => {
    expect(compareQuantities(q('999m'), q('1'))).toBe(-1);
    expect(compareQuantities(q('1025'), q('1Ki'))).toBe(1);
    expect(compareQuantities(q('-1'), q('0'))).toBe(-1);
    expect(compareQuantities(q('0.1'), q('100m'))).toBe(0);
  });

  // parseQuantity remembers what it parsed (a render asks for the same few texts thousands of times).
  it('gives the same exact value the second time, and after many other texts have pushed it out', () => {
    expect(q('1.5Gi')).toEqual({ numerator: 16106127360n, denominator: 10n });
    expect(q('1.5Gi')).toEqual({ numerator: 16106127360n, denominator: 10n });
    expect(parseQuantity('1 Gi')).toBeUndefined();
    expect(parseQuantity('1 Gi')).toBeUndefined();
    for (let i = 0; i < 2500; i++) {
      expect(compareQuantities(q(`${i}m`), { numerator: BigInt(i), denominator: 1000n })).toBe(0);
    }
    expect(q('1.5Gi')).toEqual({ numerator: 16106127360n, denominator: 10n });
    expect(q(2)).toEqual({ numerator: 2n, denominator: 1n });
    expect(q('2')).toEqual({ numerator: 2n, denominator: 1n });
  });

  it('hands out values no caller can change under another', () => {
    const first = q('64Mi');
    expect(() => {
      (first as { numerator: bigint }).numerator = 1n;
    }).toThrow(TypeError);
    expect(q('64Mi')).toEqual({ numerator: 67108864n, denominator: 1n });
  });
});
