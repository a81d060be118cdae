import * as ipaddr from 'ipaddr.js';

/**
 * Address ranges as MetalLB's IPAddressPool and kubeadm's subnets write them: a CIDR
 * (`192.168.50.240/28`) or two addresses of one family, low to high (`192.168.50.240-192.168.50.250`).
 * Each is read into its first and last address as numbers, so that overlaps and containment are
 * exact comparisons, in IPv4 and IPv6 alike.
 */

export type IpFamily = 'IPv4' | 'IPv6';

/** A range of addresses of one family, both ends included. */
export interface AddressRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

const familyOf = (address: ipaddr.IPv4 | ipaddr.IPv6): IpFamily => (address.kind() === 'ipv4' ? 'IPv4' : 'IPv6');
const asNumber = (address: ipaddr.IPv4 | ipaddr.IPv6): bigint =>
  address.toByteArray().reduce((n, byte) => (n << 8n) + BigInt(byte), 0n);

/** An address (`192.168.50.11`, `fd00:50::11`) as a range of one; undefined if it is not one. */
export function parseAddress(text: string): AddressRange | undefined {
  if (!(ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text))) {
    return undefined;
  }
  const address = ipaddr.parse(text);
  return { family: familyOf(address), first: asNumber(address), last: asNumber(address) };
}

/** A CIDR as written: its family, the address given, the prefix length and the network address. */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
  /** The address with its host bits zero: `192.168.50.240` for `192.168.50.241/28`. */
  readonly network: ipaddr.IPv4 | ipaddr.IPv6;
}

/** An IPv4 address in four decimal parts without leading zeros (`010.0.0.1` is octal to some parsers), or an IPv6 one. */
const isPlainAddress = (text: string): boolean =>
  /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)
    ? ipaddr.IPv4.isValidFourPartDecimal(text)
    : !text.includes('.') && ipaddr.IPv6.isValid(text);

/**
 * A CIDR (`10.244.0.0/16`, `fd00:10:244::/56`), host bits set or not; undefined if it is not one. Strict:
 * ipaddr.js alone reads `10.1/16` as 10.0.0.1/16 and `010.0.0.0/8` as 8.0.0.0/8.
 */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (match === null || !isPlainAddress(match[1]) || !ipaddr.isValidCIDR(text)) {
    return undefined;
  }
  const [address, prefix] = ipaddr.parseCIDR(text);
  const network =
    address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  return { family: familyOf(address), address, prefix, network };
}

/** Whether a CIDR's host bits are set: `192.168.50.241/28` names an address, not the network `192.168.50.240/28`. */
export const hasHostBits = (cidr: Cidr): boolean => asNumber(cidr.address) !== asNumber(cidr.network);

/**
 * The "what is allowed" addition for a CIDR with host bits set, naming its network, or undefined.
 * Go's net.ParseCIDR, which MetalLB and kubeadm read addresses with, quietly keeps the network of
 * `192.168.50.241/28`, so the file would say one thing and the cluster do another: it is refused
 * here, with the network it probably means.
 */
export function hostBitsHint(text: string): string | undefined {
  const cidr = parseCidr(text);
  if (cidr === undefined || !hasHostBits(cidr)) {
    return undefined;
  }
  return `${JSON.stringify(text)} has host bits set: its network is "${cidr.network.toString()}/${cidr.prefix}"`;
}

/** A CIDR whose host bits are zero, or an `a-b` range (low to high, one family); undefined if it is neither. */
export function parseAddressRange(text: string): AddressRange | undefined {
  if (text.includes('/')) {
    const cidr = parseCidr(text);
    if (cidr === undefined || hasHostBits(cidr)) {
      return undefined;
    }
    const bits = cidr.family === 'IPv4' ? 32 : 128;
    const size = 1n << BigInt(bits - cidr.prefix);
    const first = asNumber(cidr.network);
    return { family: cidr.family, first, last: first + size - 1n };
  }
  const ends = text.split('-');
  if (ends.length !== 2 || !ends.every(isPlainAddress)) {
    return undefined;
  }
  const [low, high] = ends.map((e) => ipaddr.parse(e));
  if (low.kind() !== high.kind() || asNumber(low) > asNumber(high)) {
    return undefined;
  }
  return { family: familyOf(low), first: asNumber(low), last: asNumber(high) };
}

/** The IP family of a CIDR or an `a-b` range, or undefined if it is not one. */
export function addressRangeFamily(text: string): IpFamily | undefined {
  return parseAddressRange(text)?.family;
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export const ADDRESS_RANGE_RULE =
  'a CIDR ("192.168.50.240/28", "fd00:50::/112") or a range of two addresses of one family, low to high ("192.168.50.240-192.168.50.250")';

/** What is wrong with an address range (a MetalLB pool entry), as the "what is allowed" of an error, or undefined. */
export function addressRangeProblem(text: string): string | undefined {
  if (parseAddressRange(text) !== undefined) {
    return undefined;
  }
  const hint = hostBitsHint(text);
  return hint === undefined ? ADDRESS_RANGE_RULE : `${ADDRESS_RANGE_RULE}; ${hint}`;
}

export interface ParsedCidr {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

/** A CIDR whose host bits are zero (`10.244.0.0/16`, not `10.244.1.0/16`), or undefined. */
export function parseSubnet(text: string): ParsedCidr | undefined {
  const cidr = parseCidr(text);
  return cidr === undefined || hasHostBits(cidr)
    ? undefined
    : { family: cidr.family, address: cidr.address, prefix: cidr.prefix };
}
