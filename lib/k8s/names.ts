/**
 * Name and label syntax from the Kubernetes API's validation (apimachinery/pkg/util/validation),
 * used to reject bad input at construction, before a cluster would.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A DNS-1123 label: Namespaces, and most names that become part of a DNS name. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}
export const DNS1123_LABEL_RULE =
  'at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit';

/** A DNS-1123 subdomain: the names of most objects. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}
export const DNS1123_SUBDOMAIN_RULE = 'at most 253 characters of DNS-1123 labels joined by "."';

/** A label value: at most 63 characters, alphanumeric at both ends, "-", "_" and "." inside. */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}
export const LABEL_VALUE_RULE =
  'at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A qualified name: an optional DNS-subdomain prefix and "/", then a name (label keys, provisioners). */
export function isQualifiedName(value: string): boolean {
  const parts = value.split('/');
  const name = parts[parts.length - 1];
  const prefixOk = parts.length === 1 || (parts.length === 2 && isDns1123Subdomain(parts[0]));
  return prefixOk && name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}
export const QUALIFIED_NAME_RULE =
  'an optional DNS subdomain and "/", then at most 63 letters, digits, "-", "_" or "." (e.g. "ebs.csi.aws.com" or "rancher.io/local-path")';
