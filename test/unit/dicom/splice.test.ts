import { expect } from 'chai';
import { ElementReader, Encoding } from '../../../src/dicom/element-reader';
import { textValue } from '../../../src/dicom/element-writer';
import { spliceDataset } from '../../../src/dicom/splice';
import { encodeDataset, str } from '../../helpers/synthetic-dicom';

const LE: Encoding = { explicitVr: true, littleEndian: true };
const IMPLICIT: Encoding = { explicitVr: false, littleEndian: true };
const t = (g: number, e: number) => ((g << 16) | e) >>> 0;

function tags(data: Buffer, enc: Encoding): number[] {
  return [...new ElementReader(data, enc).elements()].map((e) => e.tag);
}

/** The dataset without the given tags, element bytes as they are. */
function without(data: Buffer, enc: Encoding, drop: number[]): Buffer {
  return Buffer.concat([...new ElementReader(data, enc).elements()].filter((e) => !drop.includes(e.tag)).map((e) => data.subarray(e.start, e.end)));
}

describe('dicom/splice', () => {
  const base = [str(t(0x0008, 0x0060), 'CS', 'CT'), str(t(0x0010, 0x0010), 'PN', 'A^B'), { tag: t(0x7fe0, 0x0010), vr: 'OW', value: Buffer.alloc(64, 3) }];

  for (const [name, enc] of [
    ['explicit', LE],
    ['implicit', IMPLICIT],
  ] as [string, Encoding][]) {
    it(`inserts elements in tag order and leaves every other byte as it was (${name} VR)`, () => {
      const data = encodeDataset(base, enc.explicitVr);
      const out = spliceDataset(data, enc, [
        { kind: 'set', element: { tag: t(0x0077, 0x1001), vr: 'CS', value: textValue('CS', 'CHEST') } },
        { kind: 'set', element: { tag: t(0x0077, 0x0010), vr: 'LO', value: textValue('LO', 'BODYROUTE 1.0') } },
        { kind: 'set', element: { tag: t(0x0000 + 0x0008, 0x0005), vr: 'CS', value: textValue('CS', 'ISO_IR 100') } },
      ]);
      expect(tags(out, enc)).to.deep.equal([t(0x0008, 0x0005), t(0x0008, 0x0060), t(0x0010, 0x0010), t(0x0077, 0x0010), t(0x0077, 0x1001), t(0x7fe0, 0x0010)]);
      expect(without(out, enc, [t(0x0008, 0x0005), t(0x0077, 0x0010), t(0x0077, 0x1001)]).equals(data)).to.equal(true);
    });
  }

  it('replaces an existing element in place', () => {
    const data = encodeDataset(base, true);
    const out = spliceDataset(data, LE, [{ kind: 'set', element: { tag: t(0x0010, 0x0010), vr: 'PN', value: textValue('PN', 'LONGER^NAME') } }]);
    const el = [...new ElementReader(out, LE).elements()].find((e) => e.tag === t(0x0010, 0x0010));
    expect(out.toString('latin1', el?.valueStart, el?.end)).to.equal('LONGER^NAME ');
    expect(out.length).to.equal(data.length + 8);
  });

  it('keeps a retired group length right', () => {
    const gl = Buffer.alloc(4);
    gl.writeUInt32LE(10, 0); // (0008,0060) CS "CT" = 8 + 2 bytes
    const data = encodeDataset([{ tag: t(0x0008, 0x0000), vr: 'UL', value: gl }, ...base], true);
    const out = spliceDataset(data, LE, [{ kind: 'set', element: { tag: t(0x0008, 0x103e), vr: 'LO', value: textValue('LO', 'AB') } }]);
    const reader = new ElementReader(out, LE);
    const groupLength = [...reader.elements()].find((e) => e.tag === t(0x0008, 0x0000));
    expect(reader.valueBytes(groupLength as never).readUInt32LE(0)).to.equal(20);
  });

  it('appends an item to an existing undefined-length sequence before its delimiter, and creates one otherwise', () => {
    const item = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
    const seq = Buffer.concat([
      Buffer.from([0x00, 0x04, 0x61, 0x05]),
      Buffer.from('SQ\0\0'),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      item,
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
    ]);
    const data = Buffer.concat([encodeDataset(base.slice(0, 2), true), seq, encodeDataset(base.slice(2), true)]);
    const body = encodeDataset([str(t(0x0400, 0x0563), 'LO', 'BODYROUTE')], true);
    const out = spliceDataset(data, LE, [{ kind: 'appendItem', tag: t(0x0400, 0x0561), itemBody: body }]);
    expect(out.length).to.equal(data.length + 8 + body.length);
    expect(out.indexOf(item)).to.equal(data.indexOf(item)); // the existing item is untouched
    expect(out.includes(Buffer.from('BODYROUTE'))).to.equal(true);
    const created = spliceDataset(encodeDataset(base, true), LE, [{ kind: 'appendItem', tag: t(0x0400, 0x0561), itemBody: body }]);
    const sq = [...new ElementReader(created, LE).elements()].find((e) => e.tag === t(0x0400, 0x0561));
    expect(sq?.vr).to.equal('SQ');
    expect(sq?.length).to.equal(8 + body.length);
  });
});
