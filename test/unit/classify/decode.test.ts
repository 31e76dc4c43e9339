import { expect } from 'chai';
import { decodeForClassification, DecodedImage, DecodeError, modalityValues, paddingMask } from '../../../src/classify/decode';
import { initCodecs } from '../../../src/dicom/codecs';
import { rawImage, str } from '../../helpers/synthetic-dicom';

function image(bytes: Buffer): DecodedImage & { values: Float32Array; padding?: Uint8Array } {
  const o = decodeForClassification(bytes);
  if (o.kind !== 'image') throw new Error(`expected an image, got skipped: ${o.reason}`);
  return { ...o.image, values: modalityValues(o.image), padding: paddingMask(o.image) };
}

describe('classify/decode (native pixel data)', () => {
  before(() => initCodecs());

  it('applies rescale slope/intercept: CT stored values become Hounsfield units', () => {
    const img = image(rawImage({ rows: 2, columns: 2, stored: [0, 1024, 2048, 24], rescale: { slope: 1, intercept: -1024 } }).bytes);
    expect(Array.from(img.values)).to.deep.equal([-1024, 0, 1024, -1000]);
  });

  it('reads signed pixels and masks to Bits Stored (garbage above the high bit ignored)', () => {
    // 12 bits stored, signed: 0x0FFF = -1, 0x0800 = -2048; 0xF000 garbage bits must be dropped
    const img = image(rawImage({ rows: 1, columns: 3, bitsStored: 12, pixelRepresentation: 1, stored: [0xf000 | 0x0fff, 0x0800, 0x07ff] }).bytes);
    expect(Array.from(img.values)).to.deep.equal([-1, -2048, 2047]);
    const unsigned = image(rawImage({ rows: 1, columns: 2, bitsStored: 12, stored: [0xf000 | 0x0fff, 5] }).bytes);
    expect(Array.from(unsigned.values)).to.deep.equal([4095, 5]);
  });

  it('reads 8-bit secondary-capture style images', () => {
    const img = image(
      rawImage({ rows: 1, columns: 4, bitsAllocated: 8, stored: [0, 10, 200, 255], sopClassUid: '1.2.840.10008.5.1.4.1.1.7', modality: 'MR' }).bytes,
    );
    expect(Array.from(img.values)).to.deep.equal([0, 10, 200, 255]);
    expect(img.modality).to.equal('MR');
  });

  it('flags MONOCHROME1 for inversion', () => {
    expect(image(rawImage({ rows: 1, columns: 2, stored: [1, 2], photometric: 'MONOCHROME1' }).bytes).invert).to.equal(true);
  });

  it('marks Pixel Padding Value pixels', () => {
    const img = image(
      rawImage({
        rows: 1,
        columns: 3,
        pixelRepresentation: 1,
        stored: [-2000 & 0xffff, 40, 100],
        pixelPaddingValue: -2000,
        rescale: { slope: 1, intercept: 0 },
      }).bytes,
    );
    expect(Array.from(img.padding as Uint8Array)).to.deep.equal([1, 0, 0]);
  });

  it('reads explicit VR big endian and implicit VR', () => {
    expect(Array.from(image(rawImage({ rows: 1, columns: 2, stored: [300, 4000], bigEndian: true }).bytes).values)).to.deep.equal([300, 4000]);
    expect(Array.from(image(rawImage({ rows: 1, columns: 2, stored: [300, 4000], explicitVr: false }).bytes).values)).to.deep.equal([300, 4000]);
  });

  it('classifies the middle frame of a multi-frame object and says which', () => {
    const img = image(rawImage({ rows: 1, columns: 2, frames: 5, stored: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] }).bytes);
    expect(img.frameIndex).to.equal(2);
    expect(img.numberOfFrames).to.equal(5);
    expect(Array.from(img.values)).to.deep.equal([2, 2]);
  });

  it('reads the rescale of an Enhanced object from the shared functional groups', () => {
    const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
    const inner = Buffer.concat([encodeEl(t(0x0028, 0x1052), 'DS', '-1024'), encodeEl(t(0x0028, 0x1053), 'DS', '2')]);
    const pvt = sq(t(0x0028, 0x9145), [inner]);
    const shared = { tag: t(0x5200, 0x9229), vr: 'SQ', value: itemsOf([pvt]) };
    const img = image(rawImage({ rows: 1, columns: 2, stored: [512, 1024], sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1', extra: [shared] }).bytes);
    expect(Array.from(img.values)).to.deep.equal([0, 1024]);
  });

  it('skips objects that are not CT/MR images, with the reason', () => {
    const sr = rawImage({ rows: 1, columns: 1, stored: [0], modality: 'OT', sopClassUid: '1.2.840.10008.5.1.4.1.1.7' }).bytes;
    expect(decodeForClassification(sr)).to.deep.include({ kind: 'skipped', reason: 'modality OT: only CT and MR are classified' });
    expect(decodeForClassification(Buffer.from('plain text, not DICOM'))).to.deep.equal({ kind: 'skipped', reason: 'not a DICOM Part-10 file' });
  });

  it('skips a CT localizer (a projection), but classifies an MR localizer (a slice)', () => {
    const imageType = (v: string) => [str(0x00080008, 'CS', v)];
    const topogram = rawImage({ rows: 1, columns: 1, stored: [0], extra: imageType('ORIGINAL\\PRIMARY\\LOCALIZER\\CT_SOM5 TOP') }).bytes;
    expect(decodeForClassification(topogram)).to.deep.include({ kind: 'skipped', reason: 'CT localizer (Image Type LOCALIZER): a projection, not a slice' });
    expect(decodeForClassification(rawImage({ rows: 1, columns: 1, stored: [0], extra: imageType('ORIGINAL\\PRIMARY\\AXIAL') }).bytes).kind).to.equal('image');
    const mrLocalizer = rawImage({
      rows: 1,
      columns: 1,
      stored: [0],
      modality: 'MR',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      extra: imageType('ORIGINAL\\PRIMARY\\LOCALIZER'),
    });
    expect(decodeForClassification(mrLocalizer.bytes).kind).to.equal('image');
  });

  it('takes CT or MR from the SOP class when Modality is non-standard or empty', () => {
    const mri = decodeForClassification(rawImage({ rows: 1, columns: 1, stored: [0], modality: 'MRI', sopClassUid: '1.2.840.10008.5.1.4.1.1.4' }).bytes);
    expect(mri.kind === 'image' && mri.image.modality).to.equal('MR');
    const empty = decodeForClassification(rawImage({ rows: 1, columns: 1, stored: [0], modality: '', sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1' }).bytes);
    expect(empty.kind === 'image' && empty.image.modality).to.equal('CT');
    const enhancedMr = decodeForClassification(
      rawImage({ rows: 1, columns: 1, stored: [0], modality: 'MRI', sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1' }).bytes,
    );
    expect(enhancedMr.kind === 'image' && enhancedMr.image.modality).to.equal('MR');
    // a secondary capture that says "MRI" is not an MR image
    const sc = decodeForClassification(rawImage({ rows: 1, columns: 1, stored: [0], modality: 'MRI', sopClassUid: '1.2.840.10008.5.1.4.1.1.7' }).bytes);
    expect(sc).to.deep.include({ kind: 'skipped', reason: 'modality MRI: only CT and MR are classified' });
  });

  it("reads the header text that may name the region, in the object's character set", () => {
    const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
    const utf8 = (tagv: number, vr: string, s: string) => {
      const b = Buffer.from(s, 'utf8');
      return { tag: tagv, vr, value: b.length % 2 ? Buffer.concat([b, Buffer.from(' ')]) : b };
    };
    const extra = [
      utf8(t(0x0008, 0x0005), 'CS', 'ISO_IR 192'),
      utf8(t(0x0008, 0x1030), 'LO', 'IRM genou'),
      utf8(t(0x0008, 0x103e), 'LO', 'Épaule T1 cor'),
      utf8(t(0x0018, 0x0015), 'CS', 'SHOULDER'),
      utf8(t(0x0018, 0x1030), 'LO', 'sag_PD_fs'),
    ];
    const o = decodeForClassification(rawImage({ rows: 1, columns: 1, stored: [0], extra }).bytes);
    expect(o.kind === 'image' && o.image.header).to.deep.equal({
      bodyPartExamined: 'SHOULDER',
      seriesDescription: 'Épaule T1 cor',
      protocolName: 'sag_PD_fs',
      studyDescription: 'IRM genou',
    });
  });

  it('raises a DecodeError (not a crash) for pixel data shorter than the image', () => {
    const bytes = rawImage({ rows: 4, columns: 4, stored: [1, 2, 3, 4] }).bytes;
    expect(() => decodeForClassification(bytes)).to.throw(DecodeError, /pixel data holds/);
  });

  it('keeps extra attributes from confusing the reader', () => {
    const img = image(rawImage({ rows: 1, columns: 1, stored: [7], extra: [str(0x00081030, 'LO', 'STUDY')] }).bytes);
    expect(img.values[0]).to.equal(7);
  });
});

function encodeEl(tagv: number, vr: string, value: string): Buffer {
  const v = Buffer.from(value.length % 2 ? value + ' ' : value, 'latin1');
  const h = Buffer.alloc(8);
  h.writeUInt16LE(tagv >>> 16, 0);
  h.writeUInt16LE(tagv & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(v.length, 6);
  return Buffer.concat([h, v]);
}

function itemsOf(bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.map((b) => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0xfffe, 0);
      h.writeUInt16LE(0xe000, 2);
      h.writeUInt32LE(b.length, 4);
      return Buffer.concat([h, b]);
    }),
  );
}

function sq(tagv: number, bodies: Buffer[]): Buffer {
  const value = itemsOf(bodies);
  const h = Buffer.alloc(12);
  h.writeUInt16LE(tagv >>> 16, 0);
  h.writeUInt16LE(tagv & 0xffff, 2);
  h.write('SQ', 4, 'latin1');
  h.writeUInt32LE(value.length, 8);
  return Buffer.concat([h, value]);
}
