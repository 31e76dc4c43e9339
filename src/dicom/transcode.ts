import { canDecode, decodeFrame, FrameGeometry } from './codecs';
import { ElementHeader, ElementReader, Encoding, stringValue, UNDEFINED_LENGTH } from './element-reader';
import { encodeElement } from './element-writer';
import { frameBytes, frameFragments } from './encapsulated';
import { Tags } from './tags';
import { EXPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax } from './transfer-syntax';

/** The syntax a compressed object is transcoded to for a destination that does not take its own. */
export const TRANSCODE_TARGET = EXPLICIT_VR_LITTLE_ENDIAN;

const EXPLICIT_LE: Encoding = { explicitVr: true, littleEndian: true };

/** Why an object cannot be transcoded; undefined when it can be. */
export function whyNotDecompressible(transferSyntaxUid: string): string | undefined {
  const ts = findTransferSyntax(transferSyntaxUid);
  if (!ts) return `unknown transfer syntax ${transferSyntaxUid}`;
  if (!ts.encapsulated) return `${ts.name} is not compressed`;
  if (!canDecode(ts.uid)) return `bodyroute has no decoder for ${ts.name}`;
  return undefined;
}

const USHORTS: readonly number[] = [
  Tags.Rows,
  Tags.Columns,
  Tags.BitsAllocated,
  Tags.BitsStored,
  Tags.SamplesPerPixel,
  Tags.PixelRepresentation,
  Tags.PlanarConfiguration,
];

export interface Decompressed {
  /** The dataset in Explicit VR Little Endian. */
  dataset: Buffer;
  frames: number;
}

/**
 * Decompresses the Pixel Data of an encapsulated dataset (always Explicit VR Little Endian on
 * the wire) to native samples; every other byte is kept as it is, so nothing but Pixel Data
 * changes. Nothing is ever recompressed: lossy originals stay marked as such by their own
 * Lossy Image Compression element. Grayscale only (CT and MR): colour needs photometric changes
 * that this does not make. Throws an Error saying why when the object cannot be decompressed.
 * initCodecs() must have resolved.
 */
export function decompressDataset(dataset: Buffer, transferSyntaxUid: string): Decompressed {
  const why = whyNotDecompressible(transferSyntaxUid);
  if (why) throw new Error(why);
  const reader = new ElementReader(dataset, EXPLICIT_LE);
  const us = new Map<number, number>();
  let photometric = '';
  let numberOfFrames = 1;
  let pixelData: ElementHeader | undefined;
  for (const el of reader.elements()) {
    if (el.tag === Tags.PixelData) pixelData = el;
    else if (el.tag === Tags.IconImageSequence) throw new Error('an Icon Image Sequence holds pixel data of its own: not transcoded');
    else if (el.tag === Tags.PhotometricInterpretation) photometric = stringValue(reader.valueBytes(el));
    else if (el.tag === Tags.NumberOfFrames) numberOfFrames = Number(stringValue(reader.valueBytes(el))) || 1;
    else if (USHORTS.includes(el.tag) && el.length === 2) us.set(el.tag, dataset.readUInt16LE(el.valueStart));
  }
  if (!pixelData) throw new Error('no Pixel Data to decompress');
  if (pixelData.length !== UNDEFINED_LENGTH) throw new Error('Pixel Data is not encapsulated');
  const g: FrameGeometry = {
    width: us.get(Tags.Columns) ?? 0,
    height: us.get(Tags.Rows) ?? 0,
    bitsAllocated: us.get(Tags.BitsAllocated) ?? 0,
    bitsStored: us.get(Tags.BitsStored) ?? us.get(Tags.BitsAllocated) ?? 0,
    samplesPerPixel: us.get(Tags.SamplesPerPixel) ?? 1,
    pixelRepresentation: us.get(Tags.PixelRepresentation) ?? 0,
    planarConfiguration: us.get(Tags.PlanarConfiguration) ?? 0,
    photometricInterpretation: photometric,
  };
  if (g.samplesPerPixel !== 1) throw new Error(`${g.samplesPerPixel} samples per pixel (${photometric}): only grayscale images are transcoded`);
  if (g.bitsAllocated !== 8 && g.bitsAllocated !== 16) throw new Error(`${g.bitsAllocated} bits allocated: only 8 and 16 are transcoded`);
  if (g.width === 0 || g.height === 0) throw new Error(`an image of ${g.width}x${g.height} pixels`);
  const frameLength = g.width * g.height * (g.bitsAllocated / 8);
  const frames = frameFragments(dataset, EXPLICIT_LE, pixelData, numberOfFrames);
  const pixels = Buffer.alloc(frameLength * numberOfFrames + ((frameLength * numberOfFrames) % 2));
  frames.forEach((fragments, i) => {
    const decoded = decodeFrame(transferSyntaxUid, frameBytes(dataset, fragments), g);
    if (decoded.length < frameLength) throw new Error(`frame ${i + 1} decoded to ${decoded.length} bytes, expected ${frameLength}`);
    decoded.copy(pixels, i * frameLength, 0, frameLength);
  });
  const element = encodeElement({ tag: Tags.PixelData, vr: g.bitsAllocated === 8 ? 'OB' : 'OW', value: pixels }, EXPLICIT_LE);
  return {
    dataset: Buffer.concat([dataset.subarray(0, pixelData.start), element, dataset.subarray(pixelData.end)]),
    frames: numberOfFrames,
  };
}
