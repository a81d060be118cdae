import { cpuMillis, memoryBytes } from './quantity';

describe('cpu and memory figures', () => {
  test.each(['', 'abc', '12x', '1.2.3', '-1', '1 Gi', 'Mi', '1mi', '1KiB'])(
    '%j is not a cpu or memory amount',
    (text) => {
      expect(cpuMillis(text)).toBeUndefined();
      expect(memoryBytes(text)).toBeUndefined();
    },
  );

  test('cpu in millicores rounds up like the API server', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('1')).toBe(1000);
    expect(cpuMillis('0.0001')).toBe(1);
    expect(cpuMillis('2.5')).toBe(2500);
  });

  test('memory in bytes', () => {
    expect(memoryBytes('64Mi')).toBe(67108864);
    expect(memoryBytes('1G')).toBe(1e9);
    expect(memoryBytes('1.5Gi')).toBe(1610612736);
    expect(memoryBytes('1e3')).toBe(1000);
  });
});
