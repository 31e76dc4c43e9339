import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context, NativeCodecs } from 'dcmjs-codecs';
import { initCodecs } from '../../../src/dicom/codecs';
import { decodeForClassification, DecodedImage, modalityValues } from '../../../src/classify/decode';

type Decoded = DecodedImage & { values: Float32Array };
import { buildFileMetaHeader, readFileMeta } from '../../../src/dicom/part10';
import { ElementReader } from '../../../src/dicom/element-reader';
import { requireTools, run } from '../../helpers/tools';
import { rawImage, syntheticImage } from '../../helpers/synthetic-dicom';

/** Transcoders available here, each producing one syntax from an uncompressed original. */
const LOSSLESS: Record<string, { tool: string; args: string[]; ts: string }> = {
  implicitVr: { tool: 'dcmconv', args: ['+ti'], ts: '1.2.840.10008.1.2' },
  bigEndian: { tool: 'dcmconv', args: ['+tb'], ts: '1.2.840.10008.1.2.2' },
  deflated: { tool: 'dcmconv', args: ['+td'], ts: '1.2.840.10008.1.2.1.99' },
  rle: { tool: 'dcmcrle', args: [], ts: '1.2.840.10008.1.2.5' },
  jpegLosslessSv1: { tool: 'dcmcjpeg', args: ['+e1'], ts: '1.2.840.10008.1.2.4.70' },
  jpegLossless14: { tool: 'dcmcjpeg', args: ['+el'], ts: '1.2.840.10008.1.2.4.57' },
  jpegLs: { tool: 'dcmcjpls', args: [], ts: '1.2.840.10008.1.2.4.80' },
  jpeg2000: { tool: 'gdcmconv', args: ['--j2k'], ts: '1.2.840.10008.1.2.4.90' },
};

function decoded(path: string): Decoded {
  const o = decodeForClassification(readFileSync(path));
  if (o.kind !== 'image') throw new Error(`${path}: ${o.reason}`);
  return { ...o.image, values: modalityValues(o.image) };
}

describe('classify: decoding every transfer syntax the router accepts', function () {
  this.timeout(60000);
  let tmp: string;
  let original: Decoded;
  let source: string;

  before(async function () {
    requireTools(this, 'dcmconv', 'dcmcrle', 'dcmcjpeg', 'dcmcjpls', 'gdcmconv');
    await initCodecs();
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-decode-'));
    source = join(tmp, 'source.dcm');
    // 12-bit CT with a rescale, the common case: stored 0..4095
    writeFileSync(source, syntheticImage({ rows: 192, columns: 256 }).bytes);
    original = decoded(source);
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [name, enc] of Object.entries(LOSSLESS)) {
    it(`${name} (${enc.ts}) decodes to exactly the original pixels`, () => {
      const out = join(tmp, `${name}.dcm`);
      run(enc.tool, [...enc.args, source, out]);
      expect(readFileMeta(readFileSync(out)).transferSyntaxUid).to.equal(enc.ts);
      const img = decoded(out);
      expect([img.rows, img.columns]).to.deep.equal([192, 256]);
      expect(Buffer.from(img.values.buffer).equals(Buffer.from(original.values.buffer))).to.equal(true);
    });
  }

  it('HTJ2K lossless (encoded with dcmjs-codecs) decodes to exactly the original pixels', () => {
    const file = readFileSync(source);
    const meta = readFileMeta(file);
    const data = file.subarray(meta.datasetOffset);
    const reader = new ElementReader(data, { explicitVr: true, littleEndian: true });
    const els = [...reader.elements()];
    const pixel = els.find((e) => e.tag === 0x7fe00010);
    if (!pixel) throw new Error('no pixel data');
    const ctx = new Context({
      width: 256,
      height: 192,
      bitsAllocated: 16,
      bitsStored: 16,
      samplesPerPixel: 1,
      pixelRepresentation: 1,
      planarConfiguration: 0,
      photometricInterpretation: 'MONOCHROME2',
      decodedBuffer: new Uint8Array(reader.valueBytes(pixel)),
    });
    const encoded = Buffer.from(NativeCodecs.encodeHtJpeg2000(ctx, {}).getEncodedBuffer() as Uint8Array);
    const frag = encoded.length % 2 ? Buffer.concat([encoded, Buffer.alloc(1)]) : encoded;
    const item = (b: Buffer) => {
      const h = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]);
      h.writeUInt32LE(b.length, 4);
      return Buffer.concat([h, b]);
    };
    const encapsulated = Buffer.concat([
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]),
      item(Buffer.alloc(0)),
      item(frag),
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
    ]);
    const ts = '1.2.840.10008.1.2.4.201';
    const out = join(tmp, 'htj2k.dcm');
    writeFileSync(
      out,
      Buffer.concat([
        buildFileMetaHeader({ sopClassUid: meta.sopClassUid, sopInstanceUid: meta.sopInstanceUid, transferSyntaxUid: ts }),
        data.subarray(0, pixel.start),
        encapsulated,
      ]),
    );
    const img = decoded(out);
    expect(Buffer.from(img.values.buffer).equals(Buffer.from(original.values.buffer))).to.equal(true);
  });

  it('lossy JPEG baseline, JPEG-LS near-lossless and JPEG 2000 decode close to the original', () => {
    const eight = join(tmp, 'eight.dcm');
    // JPEG baseline is 8-bit: make an 8-bit MR secondary-capture-like copy first
    const img = original;
    const lo = Math.min(...img.values);
    const hi = Math.max(...img.values);
    const stored = Array.from(img.values, (v) => Math.round(((v - lo) / (hi - lo)) * 255));
    writeFileSync(eight, rawImage({ rows: img.rows, columns: img.columns, bitsAllocated: 8, stored, modality: 'MR' }).bytes);
    const ref = decoded(eight);
    for (const [tool, args, ts, tolerance] of [
      ['dcmcjpeg', ['+eb'], '1.2.840.10008.1.2.4.50', 40],
      ['dcmcjpls', ['+en', '+md', '2'], '1.2.840.10008.1.2.4.81', 2],
      ['gdcmconv', ['--j2k', '--lossy', '-q', '50'], '1.2.840.10008.1.2.4.91', 60],
    ] as [string, string[], string, number][]) {
      const out = join(tmp, `lossy-${ts}.dcm`);
      run(tool, [...args, eight, out]);
      expect(readFileMeta(readFileSync(out)).transferSyntaxUid, tool).to.equal(ts);
      const d = decoded(out);
      let maxDiff = 0;
      for (let i = 0; i < d.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(d.values[i] - ref.values[i]));
      expect(maxDiff, `${ts} max difference`).to.be.at.most(tolerance);
    }
  });
});
