/**
 * Kubernetes resource quantities ("250m", "1.5Gi", "1e3"), parsed exactly, so that requests and
 * limits can be compared before a cluster sees them (environment validation, the guardrail checks
 * and `npm run explain` all read quantities through this file).
 *
 * The grammar is apimachinery's resource.Quantity: a signed decimal number and
 * an optional suffix, binary (Ki..Ei), decimal (n, u, m, k, M..E) or an
 * exponent (e3, E-2). Values are kept as exact fractions (BigInt) so that
 * "1Gi" and "1073741824" compare equal and "0.1" is not a float.
 */

export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const PATTERN = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * Quantities already parsed, by their text. An environment repeats a handful of texts ("100m",
 * "64Mi") thousands of times over, and the BigInt arithmetic costs more than a lookup. Bounded, so
 * that a long-lived process fed many distinct texts does not grow without end; the entries are
 * frozen, so no caller can change what another is given.
 */
const parsed = new Map<string, Quantity | undefined>();
const PARSED_KEPT = 1000;

/** Parses a quantity; undefined when it is not one. Numbers (YAML `cpu: 1`) are accepted. */
export function parseQuantity(value: unknown): Quantity | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    value = String(value);
  }
  if (typeof value !== 'string') return undefined;
  if (parsed.has(value)) {
    return parsed.get(value);
  }
  const quantity = parseText(value);
  if (parsed.size >= PARSED_KEPT) {
    parsed.clear();
  }
  parsed.set(value, quantity && Object.freeze(quantity));
  return quantity;
}

function parseText(value: string): Quantity | undefined {
  const match = PATTERN.exec(value);
  if (!match) return undefined;
  const [, number, suffix = ''] = match;
  const negative = number.startsWith('-');
  const unsigned = number.replace(/^[+-]/, '');
  const [whole, fraction = ''] = unsigned.split('.');
  let numerator = BigInt((whole || '0') + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix in BINARY) {
    numerator *= 2n ** BigInt(BINARY[suffix]);
  } else {
    const exponent = suffix in DECIMAL ? DECIMAL[suffix] : suffix ? Number(suffix.slice(1)) : 0;
    if (Math.abs(exponent) > 1000) return undefined; // absurd exponents are not quantities anyone means
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator: negative ? -numerator : numerator, denominator };
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const left = a.numerator * b.denominator;
  const right = b.numerator * a.denominator;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** What a cpu amount may be: cores, in millicores ("250m") or whole and decimal ("1", "1.5"). */
export const CPU_QUANTITY_FORMAT = 'a Kubernetes quantity of cpu such as "250m", "1" or "1.5"';

/**
 * What an amount of memory or storage may be: bytes, with a binary ("128Mi", "1Gi") or decimal
 * ("512M", "1G") suffix. "MB" and "GB" are not suffixes Kubernetes knows.
 */
export const MEMORY_QUANTITY_FORMAT = 'a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M"';

/** Rounds a non-negative quantity times `scale` up to a whole number. */
function ceilScaled(q: Quantity, scale: bigint): number {
  const scaled = q.numerator * scale;
  const whole = scaled / q.denominator + (scaled % q.denominator === 0n ? 0n : 1n);
  return Number(whole);
}

/**
 * A cpu quantity in millicores, rounded up as the API server does (it keeps millicore precision);
 * undefined if it does not parse or is negative.
 */
export function cpuMillis(text: string): number | undefined {
  const q = parseQuantity(text);
  return q === undefined || q.numerator < 0n ? undefined : ceilScaled(q, 1000n);
}

/** A memory quantity in bytes (rounded up); undefined if it does not parse or is negative. */
export function memoryBytes(text: string): number | undefined {
  const q = parseQuantity(text);
  return q === undefined || q.numerator < 0n ? undefined : ceilScaled(q, 1n);
}

/**
 * A memory or storage quantity as a whole number of bytes; undefined if it does not parse, is
 * negative or is a fraction of a byte. (The API server would round "1500m" of memory up to 2 bytes:
 * a millicore suffix on memory is a mistake, not a size.)
 */
export function wholeBytes(text: string): number | undefined {
  const q = parseQuantity(text);
  return q === undefined || q.numerator < 0n || q.numerator % q.denominator !== 0n
    ? undefined
    : Number(q.numerator / q.denominator);
}

/** Below this many bytes, a memory or storage quantity without a unit is taken for a size whose unit was left out. */
export const BYTES_WITHOUT_UNIT_MIN = 2 ** 20;

/**
 * A bare number is bytes: "134217728" is a valid 128Mi, but no container or volume here is under a
 * mebibyte, so "128" is a size whose unit was left out. Said on its own field, with the size it
 * probably means, or undefined.
 */
export function missingMemoryUnit(text: string): string | undefined {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) >= BYTES_WITHOUT_UNIT_MIN) {
    return undefined;
  }
  return `${JSON.stringify(text)} alone is ${text} bytes: write a unit, e.g. "${text}Mi" or "${text}Gi"`;
}

/** Above this many cores, a cpu quantity without a unit is taken for millicores missing their "m". */
export const CPU_CORES_WITHOUT_UNIT_MAX = 64;

/**
 * A bare cpu number is cores ("2"), which is right for a few; "250" is 250 cores, more than any node
 * here has, and nearly always "250m" with its "m" left out. Said on its own field, or undefined.
 */
export function missingCpuUnit(text: string): string | undefined {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= CPU_CORES_WITHOUT_UNIT_MAX) {
    return undefined;
  }
  return `${JSON.stringify(text)} is ${text} cores (more than ${CPU_CORES_WITHOUT_UNIT_MAX} without a unit is taken for a missing "m"): did you mean "${text}m"?`;
}

/** What is wrong with a cpu quantity, or undefined: it must parse, be above zero and not be millicores missing their "m". */
export function cpuQuantityProblem(text: string, rule: string): string | undefined {
  if ((cpuMillis(text) ?? 0) <= 0) {
    return rule;
  }
  const missing = missingCpuUnit(text);
  return missing === undefined ? undefined : `${rule}; ${missing}`;
}

/** What is wrong with a memory or storage quantity, or undefined: whole bytes, at least `min`, with a unit. */
export function bytesQuantityProblem(text: string, min: number, rule: string): string | undefined {
  const missing = missingMemoryUnit(text);
  if (missing !== undefined) {
    return `${rule}; ${missing}`;
  }
  return (wholeBytes(text) ?? 0) >= min ? undefined : rule;
}

/**
 * A cpu quantity in millicores for comparing with others, or undefined where it does not parse or is
 * reported on its own field as a missing unit: compared, "250" cores would make the error land on the
 * field it is compared with instead.
 */
export function comparableCpuMillis(text: string): number | undefined {
  return missingCpuUnit(text) === undefined ? cpuMillis(text) : undefined;
}

/** Whole bytes for comparing with others, or undefined where it does not parse or lacks its unit (as comparableCpuMillis). */
export function comparableBytes(text: string): number | undefined {
  return missingMemoryUnit(text) === undefined ? wholeBytes(text) : undefined;
}
