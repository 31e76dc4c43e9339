import { expect } from 'chai';
import { codestreamDecompositions, reductionLevel } from '../../../src/dicom/jpeg2000-reduced';

describe('dicom/jpeg2000-reduced: the resolution level for a wanted size', () => {
  it('halves while the longer side still covers the size, so the resize after it only shrinks', () => {
    expect(reductionLevel(512, 512, 128)).to.equal(2);
    expect(reductionLevel(1024, 1024, 128)).to.equal(3);
    expect(reductionLevel(256, 256, 128)).to.equal(1);
    expect(reductionLevel(320, 512, 128)).to.equal(2); // the longer side decides, as the letterbox does
    expect(reductionLevel(513, 300, 128)).to.equal(2); // odd sizes round up at each level (ceil(513/4) = 129)
  });

  it('keeps the full resolution where one halving would fall below the size', () => {
    expect(reductionLevel(255, 255, 128)).to.equal(1); // ceil(255/2) = 128 still covers it
    expect(reductionLevel(254, 254, 128)).to.equal(0);
    expect(reductionLevel(128, 128, 128)).to.equal(0);
    expect(reductionLevel(64, 64, 128)).to.equal(0);
  });
});

/** A codestream's main header: SOC, a SIZ of the right length (contents unread), COD with `levels`, COC options, SOT. */
function mainHeader(levels: number, coc?: number): Buffer {
  const siz = Buffer.alloc(2 + 41);
  siz.writeUInt16BE(0xff51, 0);
  siz.writeUInt16BE(41, 2);
  const cod = Buffer.from([0xff, 0x52, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, levels, 0x04, 0x04, 0x00, 0x01]);
  const parts = [Buffer.from([0xff, 0x4f]), siz.subarray(0, 43), cod];
  if (coc !== undefined) parts.push(Buffer.from([0xff, 0x53, 0x00, 0x09, 0x00, 0x00, coc, 0x04, 0x04, 0x00, 0x01]));
  parts.push(Buffer.from([0xff, 0x90, 0x00, 0x0a]));
  return Buffer.concat(parts);
}

describe('dicom/jpeg2000-reduced: decompositions a codestream has', () => {
  it('reads them from COD, and a smaller COC for the component wins', () => {
    expect(codestreamDecompositions(mainHeader(5))).to.equal(5);
    expect(codestreamDecompositions(mainHeader(5, 1))).to.equal(1);
    expect(codestreamDecompositions(mainHeader(0))).to.equal(0);
  });

  it('says nothing for bytes that are not a bare codestream (a JP2 file) or a broken header', () => {
    const jp2 = Buffer.from('0000000c6a5020200d0a870a', 'hex');
    expect(codestreamDecompositions(jp2)).to.equal(undefined);
    const broken = Buffer.from([0xff, 0x4f, 0x12, 0x34, 0x00, 0x00]);
    expect(codestreamDecompositions(broken)).to.equal(undefined);
  });
});
