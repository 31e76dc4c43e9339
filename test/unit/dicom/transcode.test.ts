import { expect } from 'chai';
import { Context, NativeCodecs } from 'dcmjs-codecs';
import { initCodecs } from '../../../src/dicom/codecs';
import { ElementReader } from '../../../src/dicom/element-reader';
import { Tags } from '../../../src/dicom/tags';
import { decompressDataset, whyNotDecompressible } from '../../../src/dicom/transcode';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../../src/dicom/transfer-syntax';
import { encodeDataset, str, us } from '../../helpers/synthetic-dicom';

const RLE = '1.2.840.10008.1.2.5';
const t = (g: number, e: number) => ((g << 16) | e) >>> 0;

/** Encapsulated Pixel Data: an empty or filled Basic Offset Table, then one fragment per frame. */
function encapsulated(frames: Buffer[], withOffsets: boolean): Buffer {
  const item = (b: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(b.length, 4);
    return Buffer.concat([h, b]);
  };
  const offsets = Buffer.alloc(withOffsets ? 4 * frames.length : 0);
  let at = 0;
  frames.forEach((f, i) => {
    if (withOffsets) offsets.writeUInt32LE(at, 4 * i);
    at += 8 + f.length;
  });
  const head = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([head, item(offsets), ...frames.map(item), end]);
}

function header(rows: number, columns: number, frames: number, samplesPerPixel = 1): Buffer {
  return encodeDataset(
    [
      str(t(0x0008, 0x0060), 'CS', 'CT'),
      us(t(0x0028, 0x0002), samplesPerPixel),
      str(t(0x0028, 0x0004), 'CS', samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB'),
      str(t(0x0028, 0x0008), 'IS', String(frames)),
      us(t(0x0028, 0x0010), rows),
      us(t(0x0028, 0x0011), columns),
      us(t(0x0028, 0x0100), 16),
      us(t(0x0028, 0x0101), 12),
      us(t(0x0028, 0x0103), 0),
    ],
    true,
  );
}

function rleFrame(pixels: Buffer, rows: number, columns: number): Buffer {
  const ctx = new Context({
    width: columns,
    height: rows,
    bitsAllocated: 16,
    bitsStored: 12,
    samplesPerPixel: 1,
    pixelRepresentation: 0,
    photometricInterpretation: 'MONOCHROME2',
    decodedBuffer: new Uint8Array(pixels),
  });
  return Buffer.from(NativeCodecs.encodeRle(ctx).getEncodedBuffer()!);
}

describe('dicom/transcode', () => {
  before(() => initCodecs());

  it('names what cannot be decompressed', () => {
    expect(whyNotDecompressible(EXPLICIT_VR_LITTLE_ENDIAN)).to.match(/not compressed/);
    expect(whyNotDecompressible('1.2.840.10008.1.2.4.100')).to.match(/no decoder for MPEG2/);
    expect(whyNotDecompressible('1.2.3.4')).to.match(/unknown transfer syntax/);
    expect(whyNotDecompressible(RLE)).to.equal(undefined);
  });

  for (const withOffsets of [true, false]) {
    it(`decompresses every frame of a multi-frame object (${withOffsets ? 'with' : 'without'} a Basic Offset Table), keeping the elements before and after`, () => {
      const [rows, columns] = [6, 5];
      const frames = [0, 1, 2].map((f) => {
        const b = Buffer.alloc(rows * columns * 2);
        for (let i = 0; i < rows * columns; i++) b.writeUInt16LE((i * 37 + f * 1000) % 4096, 2 * i);
        return b;
      });
      const trailing = encodeDataset([str(t(0xfffa, 0xfffa), 'OB', 'xy')], true); // Digital Signatures Sequence stand-in after Pixel Data
      const before = header(rows, columns, 3);
      const dataset = Buffer.concat([
        before,
        encapsulated(
          frames.map((f) => rleFrame(f, rows, columns)),
          withOffsets,
        ),
        trailing,
      ]);
      const out = decompressDataset(dataset, RLE);
      expect(out.frames).to.equal(3);
      expect(out.dataset.subarray(0, before.length).equals(before)).to.equal(true);
      expect(out.dataset.subarray(out.dataset.length - trailing.length).equals(trailing)).to.equal(true);
      const pixel = [...new ElementReader(out.dataset, { explicitVr: true, littleEndian: true }).elements()].find((e) => e.tag === Tags.PixelData)!;
      expect(pixel.vr).to.equal('OW');
      expect(out.dataset.subarray(pixel.valueStart, pixel.end).equals(Buffer.concat(frames))).to.equal(true);
    });
  }

  it('refuses colour, native pixel data and frames it cannot delimit, saying why', () => {
    const frame = rleFrame(Buffer.alloc(4 * 4 * 2), 4, 4);
    expect(() => decompressDataset(Buffer.concat([header(4, 4, 1, 3), encapsulated([frame], false)]), RLE)).to.throw(
      /3 samples per pixel \(RGB\): only grayscale/,
    );
    const nativePixels = encodeDataset([{ tag: Tags.PixelData, vr: 'OW', value: Buffer.alloc(32) }], true);
    expect(() => decompressDataset(Buffer.concat([header(4, 4, 1), nativePixels]), RLE)).to.throw(/not encapsulated/);
    expect(() => decompressDataset(header(4, 4, 1), RLE)).to.throw(/no Pixel Data/);
    expect(() => decompressDataset(Buffer.concat([header(4, 4, 3), encapsulated([frame, frame], false)]), RLE)).to.throw(/frame boundaries/);
  });
});
