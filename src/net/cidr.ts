import { isIP } from 'node:net';

/** "10.0.0.0/8", "::1/128" or a bare address → address, prefix and family; undefined if malformed. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText] = text.trim().split('/');
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}
