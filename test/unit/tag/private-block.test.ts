import { expect } from 'chai';
import { choosePrivateBlock } from '../../../src/tag/private-block';
import { encodeDataset, str } from '../../helpers/synthetic-dicom';

const LE = { explicitVr: true, littleEndian: true };
const t = (g: number, e: number) => ((g << 16) | e) >>> 0;

describe('tag/private-block', () => {
  it('reserves the first slot when the group is empty', () => {
    expect(choosePrivateBlock(encodeDataset([str(t(0x0008, 0x0060), 'CS', 'CT')], true), LE, 0x0077, 'BODYROUTE 1.0')).to.deep.equal({
      block: 0x10,
      reserve: true,
    });
  });

  it('never takes another vendor’s creator slot or a block that holds data without a creator', () => {
    const data = encodeDataset([str(t(0x0077, 0x0010), 'LO', 'ACME 1'), str(t(0x0077, 0x1001), 'LO', 'x'), str(t(0x0077, 0x1101), 'LO', 'orphan')], true);
    expect(choosePrivateBlock(data, LE, 0x0077, 'BODYROUTE 1.0')).to.deep.equal({ block: 0x12, reserve: true });
  });

  it('reuses its own block where the object already has one', () => {
    const data = encodeDataset([str(t(0x0077, 0x0010), 'LO', 'ACME 1'), str(t(0x0077, 0x0011), 'LO', 'BODYROUTE 1.0')], true);
    expect(choosePrivateBlock(data, LE, 0x0077, 'BODYROUTE 1.0')).to.deep.equal({ block: 0x11, reserve: false });
  });

  it('refuses an even group', () => {
    expect(() => choosePrivateBlock(Buffer.alloc(0), LE, 0x0010, 'X')).to.throw(/odd/);
  });
});
