import { inflateRawSync } from 'node:zlib';
import { Encoding, sequenceItems, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { hasPart10Preamble, readFileMeta } from '../dicom/part10';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { canDecode, decodeFrame, FrameGeometry } from './codecs';
import { ImageAttributes, readImageAttributes } from './image-attributes';

/** One frame as modality values (HU for CT after rescale), ready for preprocessing. */
export interface DecodedImage {
  rows: number;
  columns: number;
  /** Modality values, row-major. */
  values: Float32Array;
  /** 1 where the stored value is Pixel Padding (outside the field of view). */
  padding?: Uint8Array;
  /** Display is inverted (MONOCHROME1): high values are dark. */
  invert: boolean;
  modality: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  frameIndex: number;
  numberOfFrames: number;
}

export type DecodeOutcome = { kind: 'image'; image: DecodedImage } | { kind: 'skipped'; reason: string; sopInstanceUid?: string; modality?: string };

/** The file cannot be decoded although it claims to be an image bodyroute classifies. */
export class DecodeError extends Error {}

export const CLASSIFIED_MODALITIES = new Set(['CT', 'MR']);
const VIDEO_OR_UNKNOWN = 'pixel data in a transfer syntax bodyroute cannot decode';

/**
 * Decodes the frame bodyroute classifies: the only frame, or the middle frame of a
 * multi-frame (Enhanced) object. Requires initCodecs() to have resolved for compressed syntaxes.
 */
export function decodeForClassification(file: Buffer): DecodeOutcome {
  if (!hasPart10Preamble(file)) return { kind: 'skipped', reason: 'not a DICOM Part-10 file' };
  let meta;
  try {
    meta = readFileMeta(file);
  } catch (err) {
    throw new DecodeError(`unreadable file meta: ${(err as Error).message}`);
  }
  const ts = findTransferSyntax(meta.transferSyntaxUid);
  if (!ts) return { kind: 'skipped', reason: `unknown transfer syntax ${meta.transferSyntaxUid}` };
  let data = file.subarray(meta.datasetOffset);
  if (ts.deflated) data = inflateRawSync(data);
  const enc: Encoding = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
  let a: ImageAttributes;
  try {
    a = readImageAttributes(data, enc);
  } catch (err) {
    throw new DecodeError(`unreadable dataset: ${(err as Error).message}`);
  }
  const skip = (reason: string): DecodeOutcome => ({ kind: 'skipped', reason, sopInstanceUid: a.sopInstanceUid, modality: a.modality });
  if (!a.pixelData) return skip('no pixel data: not an image');
  if (!CLASSIFIED_MODALITIES.has(a.modality)) return skip(`modality ${a.modality || '(none)'}: only CT and MR are classified`);
  if (a.rows === 0 || a.columns === 0) return skip(`empty image (${a.columns}x${a.rows})`);
  if (a.samplesPerPixel !== 1 && a.samplesPerPixel !== 3) return skip(`${a.samplesPerPixel} samples per pixel`);
  if (a.bitsAllocated !== 8 && a.bitsAllocated !== 16) return skip(`${a.bitsAllocated} bits allocated`);
  if (ts.encapsulated && !canDecode(ts.uid)) return skip(VIDEO_OR_UNKNOWN + ` (${ts.name})`);
  const frameIndex = Math.floor((a.numberOfFrames - 1) / 2);
  const g: FrameGeometry = {
    width: a.columns,
    height: a.rows,
    bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored,
    samplesPerPixel: a.samplesPerPixel,
    pixelRepresentation: a.pixelRepresentation,
    planarConfiguration: a.planarConfiguration,
    photometricInterpretation: a.photometricInterpretation,
  };
  const frameBytes = a.rows * a.columns * a.samplesPerPixel * (a.bitsAllocated / 8);
  let samples: Buffer;
  let littleEndian = true;
  let planar = a.planarConfiguration === 1;
  try {
    if (ts.encapsulated) {
      samples = decodeFrame(ts.uid, encapsulatedFrame(data, enc, a, frameIndex), g);
      if (ts.uid === '1.2.840.10008.1.2.4.50' || ts.uid === '1.2.840.10008.1.2.4.51') planar = false; // decoder output is interleaved
      if (ts.uid === '1.2.840.10008.1.2.5') planar = a.samplesPerPixel === 3; // RLE decodes colour planes separately
    } else {
      const el = a.pixelData;
      if (el.length === UNDEFINED_LENGTH) throw new DecodeError('native pixel data with undefined length');
      const start = el.valueStart + frameIndex * frameBytes;
      if (start + frameBytes > el.valueStart + el.length) throw new DecodeError(`pixel data holds ${el.length} bytes, frame ${frameIndex} needs ${start + frameBytes - el.valueStart}`);
      samples = data.subarray(start, start + frameBytes);
      littleEndian = ts.littleEndian;
    }
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`cannot decode pixel data (${ts.name}): ${(err as Error).message}`);
  }
  if (samples.length < frameBytes) throw new DecodeError(`decoded ${samples.length} bytes, expected ${frameBytes}`);
  const { values, padding } = toModalityValues(samples, a, littleEndian, planar);
  return {
    kind: 'image',
    image: {
      rows: a.rows,
      columns: a.columns,
      values,
      padding,
      invert: a.photometricInterpretation === 'MONOCHROME1',
      modality: a.modality,
      sopInstanceUid: a.sopInstanceUid,
      sopClassUid: a.sopClassUid,
      transferSyntaxUid: ts.uid,
      frameIndex,
      numberOfFrames: a.numberOfFrames,
    },
  };
}

/** The compressed bytes of one frame: Basic Offset Table if present, else one fragment per frame, else all fragments. */
function encapsulatedFrame(data: Buffer, enc: Encoding, a: ImageAttributes, frameIndex: number): Buffer {
  const el = a.pixelData;
  if (!el || el.length !== UNDEFINED_LENGTH) throw new DecodeError('compressed pixel data must have undefined length');
  // fragments are the items of the pixel data element; the first is the Basic Offset Table
  const fragments = sequenceItems(data, el, enc);
  const u32 = (at: number) => (enc.littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const [offsetTable, ...frags] = fragments;
  if (!offsetTable || frags.length === 0) throw new DecodeError('encapsulated pixel data without fragments');
  const concat = (list: { start: number; end: number }[]) => Buffer.concat(list.map((f) => data.subarray(f.start, f.end)));
  if (a.numberOfFrames === 1) return concat(frags);
  const botLength = offsetTable.end - offsetTable.start;
  if (botLength >= 4 * a.numberOfFrames) {
    const offsets = Array.from({ length: a.numberOfFrames }, (_, i) => u32(offsetTable.start + 4 * i));
    const firstItem = frags[0].start - 8;
    const begin = firstItem + offsets[frameIndex];
    const end = frameIndex + 1 < offsets.length ? firstItem + offsets[frameIndex + 1] : el.end;
    return concat(frags.filter((f) => f.start - 8 >= begin && f.end <= end));
  }
  if (frags.length === a.numberOfFrames) return concat([frags[frameIndex]]);
  throw new DecodeError(`cannot find the boundaries of frame ${frameIndex}: no offset table and ${frags.length} fragments for ${a.numberOfFrames} frames`);
}

/** Stored samples → modality values: Bits Stored, sign, rescale; colour → luminance; padding mask. */
function toModalityValues(samples: Buffer, a: ImageAttributes, littleEndian: boolean, planar: boolean): { values: Float32Array; padding?: Uint8Array } {
  const n = a.rows * a.columns;
  const values = new Float32Array(n);
  // the common case, straight from a typed view: 16-bit little-endian, all bits stored, no padding
  if (a.samplesPerPixel === 1 && a.bitsAllocated === 16 && a.bitsStored === 16 && littleEndian && samples.byteOffset % 2 === 0 && a.pixelPaddingValue === undefined) {
    const view = a.pixelRepresentation === 1 ? new Int16Array(samples.buffer, samples.byteOffset, n) : new Uint16Array(samples.buffer, samples.byteOffset, n);
    const slope = a.rescaleSlope;
    const intercept = a.rescaleIntercept;
    for (let i = 0; i < n; i++) values[i] = view[i] * slope + intercept;
    return { values };
  }
  const stored = storedSamples(samples, a, littleEndian, n * a.samplesPerPixel);
  let padding: Uint8Array | undefined;
  if (a.samplesPerPixel === 1) {
    const slope = a.rescaleSlope;
    const intercept = a.rescaleIntercept;
    for (let i = 0; i < n; i++) values[i] = stored[i] * slope + intercept;
    if (a.pixelPaddingValue !== undefined) {
      const padHi = a.pixelPaddingRangeLimit ?? a.pixelPaddingValue;
      const lo = Math.min(a.pixelPaddingValue, padHi);
      const hi = Math.max(a.pixelPaddingValue, padHi);
      padding = new Uint8Array(n);
      for (let i = 0; i < n; i++) if (stored[i] >= lo && stored[i] <= hi) padding[i] = 1;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = planar ? stored[i] : stored[3 * i];
      const g = planar ? stored[n + i] : stored[3 * i + 1];
      const b = planar ? stored[2 * n + i] : stored[3 * i + 2];
      values[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  return { values, padding };
}

/** The stored sample values as integers, masked to Bits Stored and sign-extended. */
function storedSamples(samples: Buffer, a: ImageAttributes, littleEndian: boolean, count: number): Int32Array {
  const out = new Int32Array(count);
  const signed = a.pixelRepresentation === 1;
  if (a.bitsAllocated === 8) {
    for (let i = 0; i < count; i++) out[i] = samples[i];
  } else if (littleEndian && samples.byteOffset % 2 === 0) {
    const view = signed ? new Int16Array(samples.buffer, samples.byteOffset, count) : new Uint16Array(samples.buffer, samples.byteOffset, count);
    out.set(view);
  } else {
    for (let i = 0; i < count; i++) {
      const raw = littleEndian ? samples.readUInt16LE(2 * i) : samples.readUInt16BE(2 * i);
      out[i] = signed ? (raw << 16) >> 16 : raw;
    }
  }
  if (a.bitsStored < a.bitsAllocated) {
    const shift = 32 - a.bitsStored;
    if (signed) for (let i = 0; i < count; i++) out[i] = (out[i] << shift) >> shift;
    else for (let i = 0; i < count; i++) out[i] = (out[i] << shift) >>> shift;
  } else if (signed && a.bitsAllocated === 8) {
    for (let i = 0; i < count; i++) out[i] = (out[i] << 24) >> 24;
  }
  return out;
}
