import { expect } from 'chai';
import { ElementReader, MalformedError, MAX_NESTING, TruncatedError } from '../../../src/dicom/element-reader';
import { encodeDataset, str } from '../../helpers/synthetic-dicom';

const LE_EXPLICIT = { explicitVr: true, littleEndian: true };
const LE_IMPLICIT = { explicitVr: false, littleEndian: true };

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

function tagBytes(group: number, element: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  return b;
}

const item = (body: Buffer, undefinedLength = false) =>
  undefinedLength
    ? Buffer.concat([tagBytes(0xfffe, 0xe000), u32(0xffffffff), body, tagBytes(0xfffe, 0xe00d), u32(0)])
    : Buffer.concat([tagBytes(0xfffe, 0xe000), u32(body.length), body]);
const seqDelim = Buffer.concat([tagBytes(0xfffe, 0xe0dd), u32(0)]);

function undefinedLengthSq(group: number, element: number, items: Buffer[]): Buffer {
  return Buffer.concat([tagBytes(group, element), Buffer.from('SQ\0\0', 'latin1'), u32(0xffffffff), ...items, seqDelim]);
}

describe('dicom/element-reader', () => {
  it('walks explicit VR little endian elements with short and long lengths', () => {
    const bytes = encodeDataset([str(0x00080060, 'CS', 'CT'), { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(8) }], true);
    const els = [...new ElementReader(bytes, LE_EXPLICIT).elements()];
    expect(els.map((e) => [e.tag, e.vr, e.length])).to.deep.equal([
      [0x00080060, 'CS', 2],
      [0x7fe00010, 'OW', 8],
    ]);
    expect(els[1].valueStart).to.equal(10 + 12);
    expect(els[1].end).to.equal(bytes.length);
  });

  it('walks implicit VR', () => {
    const bytes = encodeDataset([str(0x00080060, 'CS', 'MR'), str(0x00100010, 'PN', 'A^B')], false);
    const els = [...new ElementReader(bytes, LE_IMPLICIT).elements()];
    expect(els.map((e) => [e.tag, e.vr, e.length])).to.deep.equal([
      [0x00080060, undefined, 2],
      [0x00100010, undefined, 4],
    ]);
  });

  it('walks explicit VR big endian', () => {
    const b = Buffer.alloc(10);
    b.writeUInt16BE(0x0028, 0);
    b.writeUInt16BE(0x0010, 2);
    b.write('US', 4, 'latin1');
    b.writeUInt16BE(2, 6);
    b.writeUInt16BE(512, 8);
    const [el] = [...new ElementReader(b, { explicitVr: true, littleEndian: false }).elements()];
    expect(el.tag).to.equal(0x00280010);
    expect(b.readUInt16BE(el.valueStart)).to.equal(512);
  });

  it('steps over undefined-length sequences with nested undefined-length items', () => {
    const inner = undefinedLengthSq(0x0008, 0x1115, [item(encodeDataset([str(0x00081150, 'UI', '1.2.3')], true), true)]);
    const seq = undefinedLengthSq(0x0008, 0x1110, [item(inner, true), item(encodeDataset([str(0x00081155, 'UI', '1.2')], true))]);
    const after = encodeDataset([str(0x00100010, 'PN', 'X')], true);
    const bytes = Buffer.concat([seq, after]);
    const els = [...new ElementReader(bytes, LE_EXPLICIT).elements()];
    expect(els.map((e) => e.tag)).to.deep.equal([0x00081110, 0x00100010]);
    expect(els[0].end).to.equal(seq.length);
  });

  it('steps over encapsulated pixel data (undefined-length OB with fragments)', () => {
    const pixel = Buffer.concat([
      tagBytes(0x7fe0, 0x0010),
      Buffer.from('OB\0\0', 'latin1'),
      u32(0xffffffff),
      item(Buffer.alloc(0)),
      item(Buffer.alloc(100, 7)),
      seqDelim,
    ]);
    const [el] = [...new ElementReader(pixel, LE_EXPLICIT).elements()];
    expect(el.length).to.equal(0xffffffff);
    expect(el.end).to.equal(pixel.length);
  });

  it('reports truncation distinctly from malformation', () => {
    const bytes = encodeDataset([{ tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(100) }], true);
    expect(() => [...new ElementReader(bytes.subarray(0, 50), LE_EXPLICIT).elements()]).to.throw(TruncatedError);
    const bad = Buffer.from(bytes);
    bad.write('x!', 4, 'latin1');
    expect(() => [...new ElementReader(bad, LE_EXPLICIT).elements()]).to.throw(MalformedError, /invalid VR/);
  });

  it('refuses nesting deeper than the limit instead of recursing without end', () => {
    let body = encodeDataset([str(0x00100010, 'PN', 'X')], true);
    for (let i = 0; i <= MAX_NESTING; i++) body = undefinedLengthSq(0x0008, 0x1110, [item(body, true)]);
    expect(() => [...new ElementReader(body, LE_EXPLICIT).elements()]).to.throw(MalformedError, /nesting/);
  });

  it('rejects an undefined length on a VR that cannot have one', () => {
    const b = Buffer.concat([tagBytes(0x0010, 0x0010), Buffer.from('UT\0\0', 'latin1'), u32(0xffffffff)]);
    expect(() => [...new ElementReader(b, LE_EXPLICIT).elements()]).to.throw(MalformedError, /undefined length on VR UT/);
  });
});
