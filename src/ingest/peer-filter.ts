import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../net/cidr';

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
