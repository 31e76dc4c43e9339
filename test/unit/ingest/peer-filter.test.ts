import { expect } from 'chai';
import { parseCidr } from '../../../src/net/cidr';
import { PeerFilter } from '../../../src/ingest/peer-filter';

describe('ingest/peer-filter', () => {
  it('parses CIDR blocks and bare addresses, and refuses the rest', () => {
    expect(parseCidr('10.1.0.0/16')).to.deep.equal({ address: '10.1.0.0', prefix: 16, family: 'ipv4' });
    expect(parseCidr('192.168.1.7')).to.deep.equal({ address: '192.168.1.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).to.deep.equal({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    for (const bad of ['10.1.0.0/33', 'ct-room-1', '10.1.0/8', '']) expect(parseCidr(bad), bad).to.equal(undefined);
  });

  it('allows addresses inside the blocks, IPv4-mapped IPv6 included, and everyone when empty', () => {
    const f = new PeerFilter(['10.1.0.0/16', '127.0.0.1']);
    expect(f.allows('10.1.200.3')).to.equal(true);
    expect(f.allows('::ffff:10.1.0.9')).to.equal(true);
    expect(f.allows('127.0.0.1')).to.equal(true);
    expect(f.allows('10.2.0.1')).to.equal(false);
    expect(f.allows('127.0.0.2')).to.equal(false);
    expect(f.allows(undefined)).to.equal(false);
    expect(new PeerFilter([]).allows('203.0.113.9')).to.equal(true);
  });
});
