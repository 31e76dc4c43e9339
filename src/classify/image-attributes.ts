import { ElementHeader, ElementReader, Encoding, sequenceItems, stringValue, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { decodeText } from '../dicom/charset';
import { tag } from '../dicom/tags';
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

const T = {
  SpecificCharacterSet: tag(0x0008, 0x0005),
  ImageType: tag(0x0008, 0x0008),
  StudyDescription: tag(0x0008, 0x1030),
  SeriesDescription: tag(0x0008, 0x103e),
  BodyPartExamined: tag(0x0018, 0x0015),
  ProtocolName: tag(0x0018, 0x1030),
  SopClassUid: tag(0x0008, 0x0016),
  SopInstanceUid: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  SamplesPerPixel: tag(0x0028, 0x0002),
  Photometric: tag(0x0028, 0x0004),
  PlanarConfiguration: tag(0x0028, 0x0006),
  NumberOfFrames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  PixelRepresentation: tag(0x0028, 0x0103),
  PixelPaddingValue: tag(0x0028, 0x0120),
  PixelPaddingRangeLimit: tag(0x0028, 0x0121),
  RescaleIntercept: tag(0x0028, 0x1052),
  RescaleSlope: tag(0x0028, 0x1053),
  PixelValueTransformationSequence: tag(0x0028, 0x9145),
  SharedFunctionalGroups: tag(0x5200, 0x9229),
  PerFrameFunctionalGroups: tag(0x5200, 0x9230),
  PixelData: tag(0x7fe0, 0x0010),
};

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
  const charset = str(T.SpecificCharacterSet);
  const text = (t: number) => {
    const el = els.get(t);
    return el && el.length !== UNDEFINED_LENGTH ? decodeText(reader.valueBytes(el), charset).trim() || undefined : undefined;
  };
  const pixelRepresentation = u16(T.PixelRepresentation) ?? 0;
  // Padding value is US or SS following Pixel Representation (its VR in implicit syntaxes).
  const padSigned = pixelRepresentation === 1 && els.get(T.PixelPaddingValue)?.vr !== 'US';
  let slope = numberFromString(str(T.RescaleSlope));
  let intercept = numberFromString(str(T.RescaleIntercept));
  if (slope === undefined || intercept === undefined) {
    // Enhanced CT/MR keep the rescale in the functional groups.
    const fromGroups =
      rescaleFromFunctionalGroups(data, enc, els.get(T.SharedFunctionalGroups)) ?? rescaleFromFunctionalGroups(data, enc, els.get(T.PerFrameFunctionalGroups));
    slope ??= fromGroups?.slope;
    intercept ??= fromGroups?.intercept;
  }
  return {
    sopClassUid: str(T.SopClassUid) ?? '',
    sopInstanceUid: str(T.SopInstanceUid) ?? '',
    modality: (str(T.Modality) ?? '').toUpperCase(),
    imageType: (str(T.ImageType) ?? '').split('\\').map((s) => s.trim().toUpperCase()),
    rows: u16(T.Rows) ?? 0,
    columns: u16(T.Columns) ?? 0,
    samplesPerPixel: u16(T.SamplesPerPixel) ?? 1,
    bitsAllocated: u16(T.BitsAllocated) ?? 0,
    bitsStored: u16(T.BitsStored) ?? u16(T.BitsAllocated) ?? 0,
    pixelRepresentation,
    planarConfiguration: u16(T.PlanarConfiguration) ?? 0,
    photometricInterpretation: (str(T.Photometric) ?? 'MONOCHROME2').toUpperCase(),
    numberOfFrames: Math.max(1, Math.floor(numberFromString(str(T.NumberOfFrames)) ?? 1)),
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    pixelPaddingValue: u16(T.PixelPaddingValue, padSigned),
    pixelPaddingRangeLimit: u16(T.PixelPaddingRangeLimit, padSigned),
    pixelData: els.get(T.PixelData),
    header: {
      bodyPartExamined: text(T.BodyPartExamined),
      seriesDescription: text(T.SeriesDescription),
      protocolName: text(T.ProtocolName),
      studyDescription: text(T.StudyDescription),
    },
  };
}

function rescaleFromFunctionalGroups(data: Buffer, enc: Encoding, groups: ElementHeader | undefined): { slope?: number; intercept?: number } | undefined {
  if (!groups) return undefined;
  const [first] = sequenceItems(data, groups, enc);
  if (!first) return undefined;
  const reader = new ElementReader(data, enc, first.end);
  for (const el of reader.elements(first.start)) {
    if (el.tag !== T.PixelValueTransformationSequence) continue;
    const [item] = sequenceItems(data, el, enc);
    if (!item) return undefined;
    const inner = new ElementReader(data, enc, item.end);
    const out: { slope?: number; intercept?: number } = {};
    for (const e of inner.elements(item.start)) {
      if (e.tag === T.RescaleSlope) out.slope = numberFromString(stringValue(inner.valueBytes(e)));
      if (e.tag === T.RescaleIntercept) out.intercept = numberFromString(stringValue(inner.valueBytes(e)));
    }
    return out;
  }
  return undefined;
}
