import { ElementHeader, ElementReader, Encoding, sequenceItems, stringValue, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { decodeText } from '../dicom/charset';
import { Tags } from '../dicom/tags';
import { HeaderText } from './header-regions';

/** The attributes that say how to turn stored pixel values into an image. */
export interface ImageAttributes {
  sopClassUid: string;
  sopInstanceUid: string;
  modality: string;
  imageType: string[];
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  /** The Pixel Data element, if any. */
  pixelData?: ElementHeader;
  /** The text elements that may name the body region, decoded in the object's character set. */
  header: HeaderText;
}

function numberFromString(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const v = Number(s.split('\\')[0].trim());
  return Number.isFinite(v) ? v : undefined;
}

/** Reads the image attributes of a dataset held in memory. */
export function readImageAttributes(data: Buffer, enc: Encoding): ImageAttributes {
  const reader = new ElementReader(data, enc);
  const els = new Map<number, ElementHeader>();
  for (const el of reader.elements()) els.set(el.tag, el);
  const str = (t: number) => {
    const el = els.get(t);
    return el && el.length !== UNDEFINED_LENGTH ? stringValue(reader.valueBytes(el)) : undefined;
  };
  const u16 = (t: number, signed = false) => {
    const el = els.get(t);
    if (!el || el.length < 2 || el.length === UNDEFINED_LENGTH) return undefined;
    const b = reader.valueBytes(el);
    if (signed) return enc.littleEndian ? b.readInt16LE(0) : b.readInt16BE(0);
    return enc.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0);
  };
  const charset = str(Tags.SpecificCharacterSet);
  const text = (t: number) => {
    const el = els.get(t);
    return el && el.length !== UNDEFINED_LENGTH ? decodeText(reader.valueBytes(el), charset).trim() || undefined : undefined;
  };
  const pixelRepresentation = u16(Tags.PixelRepresentation) ?? 0;
  // Padding value is US or SS following Pixel Representation (its VR in implicit syntaxes).
  const padSigned = pixelRepresentation === 1 && els.get(Tags.PixelPaddingValue)?.vr !== 'US';
  let slope = numberFromString(str(Tags.RescaleSlope));
  let intercept = numberFromString(str(Tags.RescaleIntercept));
  if (slope === undefined || intercept === undefined) {
    // Enhanced CT/MR keep the rescale in the functional groups.
    const fromGroups =
      rescaleFromFunctionalGroups(data, enc, els.get(Tags.SharedFunctionalGroupsSequence)) ??
      rescaleFromFunctionalGroups(data, enc, els.get(Tags.PerFrameFunctionalGroupsSequence));
    slope ??= fromGroups?.slope;
    intercept ??= fromGroups?.intercept;
  }
  return {
    sopClassUid: str(Tags.SopClassUid) ?? '',
    sopInstanceUid: str(Tags.SopInstanceUid) ?? '',
    modality: (str(Tags.Modality) ?? '').toUpperCase(),
    imageType: (str(Tags.ImageType) ?? '').split('\\').map((s) => s.trim().toUpperCase()),
    rows: u16(Tags.Rows) ?? 0,
    columns: u16(Tags.Columns) ?? 0,
    samplesPerPixel: u16(Tags.SamplesPerPixel) ?? 1,
    bitsAllocated: u16(Tags.BitsAllocated) ?? 0,
    bitsStored: u16(Tags.BitsStored) ?? u16(Tags.BitsAllocated) ?? 0,
    pixelRepresentation,
    planarConfiguration: u16(Tags.PlanarConfiguration) ?? 0,
    photometricInterpretation: (str(Tags.PhotometricInterpretation) ?? 'MONOCHROME2').toUpperCase(),
    numberOfFrames: Math.max(1, Math.floor(numberFromString(str(Tags.NumberOfFrames)) ?? 1)),
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    pixelPaddingValue: u16(Tags.PixelPaddingValue, padSigned),
    pixelPaddingRangeLimit: u16(Tags.PixelPaddingRangeLimit, padSigned),
    pixelData: els.get(Tags.PixelData),
    header: {
      bodyPartExamined: text(Tags.BodyPartExamined),
      seriesDescription: text(Tags.SeriesDescription),
      protocolName: text(Tags.ProtocolName),
      studyDescription: text(Tags.StudyDescription),
    },
  };
}

function rescaleFromFunctionalGroups(data: Buffer, enc: Encoding, groups: ElementHeader | undefined): { slope?: number; intercept?: number } | undefined {
  if (!groups) return undefined;
  const [first] = sequenceItems(data, groups, enc);
  if (!first) return undefined;
  const reader = new ElementReader(data, enc, first.end);
  for (const el of reader.elements(first.start)) {
    if (el.tag !== Tags.PixelValueTransformationSequence) continue;
    const [item] = sequenceItems(data, el, enc);
    if (!item) return undefined;
    const inner = new ElementReader(data, enc, item.end);
    const out: { slope?: number; intercept?: number } = {};
    for (const e of inner.elements(item.start)) {
      if (e.tag === Tags.RescaleSlope) out.slope = numberFromString(stringValue(inner.valueBytes(e)));
      if (e.tag === Tags.RescaleIntercept) out.intercept = numberFromString(stringValue(inner.valueBytes(e)));
    }
    return out;
  }
  return undefined;
}
