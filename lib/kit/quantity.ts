/**
 * Kubernetes resource quantities (`250m`, `1`, `128Mi`, `1.5Gi`, `1e3`), parsed the way the API
 * server's resource.Quantity reads them, so that requests and limits can be compared before a
 * cluster sees them.
 */

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  'n': 1e-9, 'u': 1e-6, 'm': 1e-3,
  'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

// A non-negative decimal number, then a binary or decimal suffix or a decimal exponent.
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export const QUANTITY_FORMAT = 'a Kubernetes quantity such as "250m", "1", "128Mi" or "1Gi"';

/** The quantity's value in base units (cores, bytes), or undefined if it does not parse. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) {
    return undefined;
  }
  const [, number, suffix = ''] = match;
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX_FACTORS[suffix];
  return Number(number) * factor;
}

/** A cpu quantity in millicores, rounded up as the API server does (it keeps millicore precision). */
export function cpuMillis(text: string): number | undefined {
  const cores = parseQuantity(text);
  return cores === undefined ? undefined : Math.ceil(Math.round(cores * 1e6) / 1e3);
}

/** A memory quantity in bytes. */
export function memoryBytes(text: string): number | undefined {
  const bytes = parseQuantity(text);
  return bytes === undefined ? undefined : Math.ceil(bytes);
}
