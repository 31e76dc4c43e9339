import { BlockList, isIP } from 'node:net';

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

/** The listener's peer-address allow-list (listen.allowedPeers); empty allows everyone. */
export class PeerFilter {
  private readonly list = new BlockList();
  private readonly any: boolean;

  constructor(cidrs: readonly string[]) {
    this.any = cidrs.length === 0;
    for (const c of cidrs) {
      const p = parseCidr(c);
      if (p) this.list.addSubnet(p.address, p.prefix, p.family);
    }
  }

  allows(address: string | undefined): boolean {
    if (this.any) return true;
    if (!address) return false;
    // IPv4 peers on a dual-stack socket arrive as ::ffff:a.b.c.d
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1] : address;
    return this.list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
  }
}
