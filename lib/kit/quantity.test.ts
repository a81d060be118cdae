import { cpuMillis, memoryBytes, parseQuantity } from './quantity';

describe('parseQuantity', () => {
  test.each([
    ['250m', 0.25], ['1', 1], ['1.5', 1.5], ['128Mi', 128 * 2 ** 20], ['1Gi', 2 ** 30],
    ['1k', 1000], ['1M', 1e6], ['1e3', 1000], ['.5', 0.5], ['100n', 1e-7],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 12);
  });

  test.each(['', 'abc', '12x', '1.2.3', '-1', '1 Gi', 'Mi', '1mi', '1KiB'])('%j does not parse', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  test('cpu in millicores rounds up like the API server', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('1')).toBe(1000);
    expect(cpuMillis('0.0001')).toBe(1);
    expect(cpuMillis('2.5')).toBe(2500);
  });

  test('memory in bytes', () => {
    expect(memoryBytes('64Mi')).toBe(67108864);
    expect(memoryBytes('1G')).toBe(1e9);
  });
});
