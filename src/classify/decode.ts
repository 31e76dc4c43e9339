import { inflateRawSync } from 'node:zlib';
import { Encoding, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { frameBytes, frameFragments } from '../dicom/encapsulated';
import { hasPart10Preamble, readFileMeta } from '../dicom/part10';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { IMAGE_SOP_CLASS_MODALITY } from '../dicom/uids';
import { canDecode, decodeFrame, FrameGeometry } from '../dicom/codecs';
import { decodeJpeg2000Reduced, ReducedFrame, reducedJpeg2000Ready, reductionLevel } from '../dicom/jpeg2000-reduced';
import { HeaderText } from './header-regions';
import { ImageAttributes, readImageAttributes } from './image-attributes';

/**
 * Grayscale pixels as they are stored, with a table from each raw sample to its modality value
 * (Bits Stored, sign and rescale applied): preprocessing reads through the table, so no
 * per-pixel float image is made.
 */
export interface IndexedPixels {
  kind: 'indexed';
  /** Raw samples, row-major; may be a view into the file's bytes. */
  samples: Uint8Array | Uint16Array;
  /** raw sample → modality value (HU for CT) */
  table: Float32Array;
  /** raw sample → 1 where the stored value is Pixel Padding (outside the field of view) */
  paddingTable?: Uint8Array;
}

/** Pixels as modality values (colour images, as luminance). */
export interface ValuePixels {
  kind: 'values';
  values: Float32Array;
  /** 1 where the pixel is padding */
  padding?: Uint8Array;
}

/** One frame, ready for preprocessing. */
export interface DecodedImage {
  rows: number;
  columns: number;
  pixels: IndexedPixels | ValuePixels;
  /** Display is inverted (MONOCHROME1): high values are dark. */
  invert: boolean;
  modality: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  frameIndex: number;
  numberOfFrames: number;
  /** JPEG 2000 decoded at a reduced resolution: how many times halved (rows and columns are the reduced size). */
  resolutionLevel?: number;
  /** Header text that may name the region (used when the classifier fuses header evidence). */
  header: HeaderText;
}

export type DecodeOutcome = { kind: 'image'; image: DecodedImage } | { kind: 'skipped'; reason: string; sopInstanceUid?: string; modality?: string };

/** The file cannot be decoded although it claims to be an image bodyroute classifies. */
export class DecodeError extends Error {}

const CLASSIFIED_MODALITIES = new Set(['CT', 'MR']);

/**
 * CT or MR from the Modality element, else from the SOP class (scanners and converters write
 * "MRI", "MR " or nothing); undefined for anything else, which is not classified.
 */
function classifiedModality(a: Pick<ImageAttributes, 'modality' | 'sopClassUid'>): 'CT' | 'MR' | undefined {
  if (CLASSIFIED_MODALITIES.has(a.modality)) return a.modality as 'CT' | 'MR';
  return IMAGE_SOP_CLASS_MODALITY[a.sopClassUid];
}

const VIDEO_OR_UNKNOWN = 'pixel data in a transfer syntax bodyroute cannot decode';

export interface DecodeOptions {
  /**
   * The size the image will be resized to (the model's input). A grayscale JPEG 2000 frame is then
   * decoded at the deepest resolution level that still covers it (initReducedJpeg2000() must have
   * resolved; otherwise, or if that decode fails, the frame is decoded in full).
   */
  reduceJpeg2000To?: number;
}

/**
 * Decodes the frame bodyroute classifies: the only frame, or the middle frame of a
 * multi-frame (Enhanced) object. Requires initCodecs() to have resolved for compressed syntaxes.
 */
export function decodeForClassification(file: Buffer, options: DecodeOptions = {}): DecodeOutcome {
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
  const modality = classifiedModality(a);
  if (!modality) return skip(`modality ${a.modality || '(none)'}: only CT and MR are classified`);
  // A CT localizer (topogram, scout) is a projection through the whole body, not a slice: the model has never
  // seen one and would name a region at random. MR localizers are slices (the training set holds 3-plane ones).
  if (modality === 'CT' && a.imageType.includes('LOCALIZER')) return skip('CT localizer (Image Type LOCALIZER): a projection, not a slice');
  if (a.rows === 0 || a.columns === 0) return skip(`empty image (${a.columns}x${a.rows})`);
  if (a.samplesPerPixel !== 1 && a.samplesPerPixel !== 3) return skip(`${a.samplesPerPixel} samples per pixel`);
  if (a.bitsAllocated !== 8 && a.bitsAllocated !== 16) return skip(`${a.bitsAllocated} bits allocated`);
  if (ts.encapsulated && !canDecode(ts.uid)) return skip(VIDEO_OR_UNKNOWN + ` (${ts.name})`);
  const frameIndex = Math.floor((a.numberOfFrames - 1) / 2);
  const reduced = options.reduceJpeg2000To && ts.codec === 'jpeg2000' ? reducedFrame(data, enc, a, frameIndex, options.reduceJpeg2000To) : undefined;
  if (reduced) {
    const sized = { ...a, rows: reduced.rows, columns: reduced.columns };
    return {
      kind: 'image',
      image: { ...imageOf(sized, modality, ts.uid, frameIndex), pixels: toPixels(reduced.samples, sized, true, false), resolutionLevel: reduced.level },
    };
  }
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
      if (ts.decodedColour) planar = ts.decodedColour === 'planar' && a.samplesPerPixel === 3;
    } else {
      const el = a.pixelData;
      if (el.length === UNDEFINED_LENGTH) throw new DecodeError('native pixel data with undefined length');
      const start = el.valueStart + frameIndex * frameBytes;
      if (start + frameBytes > el.valueStart + el.length)
        throw new DecodeError(`pixel data holds ${el.length} bytes, frame ${frameIndex} needs ${start + frameBytes - el.valueStart}`);
      samples = data.subarray(start, start + frameBytes);
      littleEndian = ts.littleEndian;
    }
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`cannot decode pixel data (${ts.name}): ${(err as Error).message}`);
  }
  if (samples.length < frameBytes) throw new DecodeError(`decoded ${samples.length} bytes, expected ${frameBytes}`);
  return { kind: 'image', image: { ...imageOf(a, modality, ts.uid, frameIndex), pixels: toPixels(samples, a, littleEndian, planar) } };
}

/** Everything of the decoded image but its pixels. */
function imageOf(a: ImageAttributes, modality: string, transferSyntaxUid: string, frameIndex: number): Omit<DecodedImage, 'pixels'> {
  return {
    rows: a.rows,
    columns: a.columns,
    invert: a.photometricInterpretation === 'MONOCHROME1',
    modality,
    sopInstanceUid: a.sopInstanceUid,
    sopClassUid: a.sopClassUid,
    transferSyntaxUid,
    frameIndex,
    numberOfFrames: a.numberOfFrames,
    header: a.header,
  };
}

/**
 * A grayscale JPEG 2000 frame at the deepest resolution level that still covers `size` pixels; undefined
 * where that is the full resolution, for colour, when the decoder is not loaded, or when the reduced
 * decode fails (the full decode then gives the image, or the error).
 */
function reducedFrame(data: Buffer, enc: Encoding, a: ImageAttributes, frameIndex: number, size: number): ReducedFrame | undefined {
  const level = reductionLevel(a.rows, a.columns, size);
  if (level === 0 || a.samplesPerPixel !== 1 || !reducedJpeg2000Ready()) return undefined;
  try {
    return decodeJpeg2000Reduced(encapsulatedFrame(data, enc, a, frameIndex), level, a.bitsAllocated / 8);
  } catch {
    return undefined;
  }
}

/** The compressed bytes of one frame. */
function encapsulatedFrame(data: Buffer, enc: Encoding, a: ImageAttributes, frameIndex: number): Buffer {
  if (!a.pixelData) throw new DecodeError('no pixel data');
  let frames;
  try {
    frames = frameFragments(data, enc, a.pixelData, a.numberOfFrames);
  } catch (err) {
    throw new DecodeError((err as Error).message);
  }
  return frameBytes(data, frames[frameIndex]);
}

/** Stored samples → pixels: grayscale indexed through a modality table; colour → luminance. */
function toPixels(samples: Buffer, a: ImageAttributes, littleEndian: boolean, planar: boolean): IndexedPixels | ValuePixels {
  const n = a.rows * a.columns;
  if (a.samplesPerPixel === 1) {
    const lut = modalityLut(a);
    return { kind: 'indexed', samples: rawSamples(samples, a.bitsAllocated, littleEndian, n), table: lut.values, paddingTable: lut.padding };
  }
  const raw = rawSamples(samples, a.bitsAllocated, littleEndian, 3 * n);
  const stored = storedTable(a);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = stored[planar ? raw[i] : raw[3 * i]];
    const g = stored[planar ? raw[n + i] : raw[3 * i + 1]];
    const b = stored[planar ? raw[2 * n + i] : raw[3 * i + 2]];
    values[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return { kind: 'values', values };
}

/** The modality value of every pixel (for tools and tests; preprocessing reads the table directly). */
export function modalityValues(img: DecodedImage): Float32Array {
  const px = img.pixels;
  if (px.kind === 'values') return px.values;
  const out = new Float32Array(px.samples.length);
  for (let i = 0; i < out.length; i++) out[i] = px.table[px.samples[i]];
  return out;
}

/** 1 where the pixel is padding; undefined when the image declares none. */
export function paddingMask(img: DecodedImage): Uint8Array | undefined {
  const px = img.pixels;
  if (px.kind === 'values') return px.padding;
  if (!px.paddingTable) return undefined;
  const out = new Uint8Array(px.samples.length);
  for (let i = 0; i < out.length; i++) out[i] = px.paddingTable[px.samples[i]];
  return out;
}

/** The raw 8- or 16-bit samples as an unsigned view (copied only when unaligned or big endian). */
function rawSamples(samples: Buffer, bitsAllocated: number, littleEndian: boolean, count: number): Uint8Array | Uint16Array {
  if (bitsAllocated === 8) return new Uint8Array(samples.buffer, samples.byteOffset, count);
  if (littleEndian && samples.byteOffset % 2 === 0) return new Uint16Array(samples.buffer, samples.byteOffset, count);
  // an aligned copy (never from the shared pool), byte-swapped in place where big endian
  const copy = Buffer.allocUnsafeSlow(2 * count);
  samples.copy(copy, 0, 0, 2 * count);
  if (!littleEndian) copy.swap16();
  return new Uint16Array(copy.buffer, copy.byteOffset, count);
}

interface ModalityLut {
  /** raw sample → modality value (Bits Stored masked, sign-extended, rescaled) */
  values: Float32Array;
  /** raw sample → 1 when the stored value is Pixel Padding */
  padding?: Uint8Array;
}

const lutCache = new Map<string, ModalityLut>();

/** raw sample → stored value: masked to Bits Stored and sign-extended (the one place that does it). */
function storedTable(a: ImageAttributes): Int32Array {
  const size = 1 << a.bitsAllocated;
  const shift = 32 - Math.min(a.bitsStored, a.bitsAllocated);
  const out = new Int32Array(size);
  for (let raw = 0; raw < size; raw++) out[raw] = a.pixelRepresentation === 1 ? (raw << shift) >> shift : (raw << shift) >>> shift;
  return out;
}

/** One table per combination of sample layout, rescale and padding; images of a series share it. */
function modalityLut(a: ImageAttributes): ModalityLut {
  const key = `${a.bitsAllocated}/${a.bitsStored}/${a.pixelRepresentation}/${a.rescaleSlope}/${a.rescaleIntercept}/${a.pixelPaddingValue}/${a.pixelPaddingRangeLimit}`;
  const cached = lutCache.get(key);
  if (cached) return cached;
  const stored = storedTable(a);
  const values = new Float32Array(stored.length);
  for (let raw = 0; raw < stored.length; raw++) values[raw] = stored[raw] * a.rescaleSlope + a.rescaleIntercept;
  let padding: Uint8Array | undefined;
  if (a.pixelPaddingValue !== undefined) {
    const padHi = a.pixelPaddingRangeLimit ?? a.pixelPaddingValue;
    const lo = Math.min(a.pixelPaddingValue, padHi);
    const hi = Math.max(a.pixelPaddingValue, padHi);
    padding = new Uint8Array(stored.length);
    for (let raw = 0; raw < stored.length; raw++) if (stored[raw] >= lo && stored[raw] <= hi) padding[raw] = 1;
  }
  if (lutCache.size >= 16) lutCache.delete(lutCache.keys().next().value as string);
  const lut = { values, padding };
  lutCache.set(key, lut);
  return lut;
}
