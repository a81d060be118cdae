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

/** A CIDR or an `a-b` range (low to high, one family); undefined if it is neither. */
export function parseAddressRange(text: string): AddressRange | undefined {
  if (text.includes('/')) {
    if (!ipaddr.isValidCIDR(text)) {
      return undefined;
    }
    const [address, prefix] = ipaddr.parseCIDR(text);
    const bits = address.kind() === 'ipv4' ? 32 : 128;
    const size = 1n << BigInt(bits - prefix);
    const first = (asNumber(address) / size) * size;
    return { family: familyOf(address), first, last: first + size - 1n };
  }
  const ends = text.split('-');
  if (ends.length !== 2 || !ends.every((e) => ipaddr.isValid(e))) {
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
