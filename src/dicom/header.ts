import { inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { decodeText } from './charset';
import { ElementReader, hasLongLength, MalformedError, stringValue, TruncatedError, UNDEFINED_LENGTH } from './element-reader';
import { Tags } from './tags';
import { findTransferSyntax } from './transfer-syntax';

/**
 * The attributes the pipeline needs (routing, layout, logs), read from the top level
 * of a dataset without parsing values it does not need.
 */
export interface DatasetSummary {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  modality?: string;
  /** Top-level string values by tag, for the tags asked for. */
  values: Map<number, string>;
  /** Where reading stopped: 'complete' = every top-level element was inside the bytes given. */
  extent: 'complete' | 'truncated';
  /** The element that runs past the bytes given, if any. */
  openElement?: { tag: number; valueStart: number; length: number };
  /**
   * Bytes before the first top-level element at or after Pixel Data, when they lie inside the bytes
   * given (not for deflated datasets, whose stored bytes are compressed): enough to tag the object.
   */
  headerLength?: number;
}

export const SUMMARY_TAGS: readonly number[] = [
  Tags.SpecificCharacterSet,
  Tags.ImageType,
  Tags.SopClassUid,
  Tags.SopInstanceUid,
  Tags.Modality,
  Tags.StudyDescription,
  Tags.SeriesDescription,
  Tags.BodyPartExamined,
  Tags.StudyInstanceUid,
  Tags.SeriesInstanceUid,
  Tags.InstanceNumber,
  Tags.ImagePositionPatient,
  Tags.ImageOrientationPatient,
];

/** Inflates as much of a deflated dataset as the prefix allows. */
function inflatePrefix(bytes: Buffer): Buffer {
  return inflateRawSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/** VRs whose values are in the Specific Character Set (PS3.5 §6.1.2.3); the others are ASCII or binary. */
const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);

/** A value as text: decoded per Specific Character Set where its VR is (or, implicit, may be) a text VR. */
function textOf(bytes: Buffer, vr: string | undefined, charset: string | undefined): string {
  return charset && (vr === undefined || CHARSET_VRS.has(vr)) ? decodeText(bytes, charset) : stringValue(bytes);
}

/**
 * Summarises a dataset. `bytes` may be a prefix: reading stops at the first element that
 * runs past it. Tags beyond `wanted` are stepped over. Throws MalformedError for bytes
 * that cannot be a dataset.
 */
export function summarizeDataset(bytes: Buffer, transferSyntaxUid: string, wanted: readonly number[] = SUMMARY_TAGS): DatasetSummary {
  const ts = findTransferSyntax(transferSyntaxUid);
  const explicitVr = ts ? ts.explicitVr : true;
  const littleEndian = ts ? ts.littleEndian : true;
  const data = ts?.deflated ? inflatePrefix(bytes) : bytes;
  const reader = new ElementReader(data, { explicitVr, littleEndian });
  const want = new Set(wanted);
  const values = new Map<number, string>();
  let extent: DatasetSummary['extent'] = 'complete';
  let openElement: DatasetSummary['openElement'];
  let pos = 0;
  let previousTag = -1;
  let headerLength: number | undefined;
  // (0008,0005) comes before every text element it governs (ascending tag order)
  let charset: string | undefined;
  while (pos < data.length) {
    let el;
    try {
      el = reader.readElement(pos);
    } catch (err) {
      if (!(err instanceof TruncatedError)) throw err;
      extent = 'truncated';
      openElement = headerOnly(data, pos, explicitVr, littleEndian);
      if (openElement && openElement.tag >= Tags.PixelData) headerLength ??= pos;
      break;
    }
    if (el.tag <= previousTag) throw new MalformedError(pos, 'elements out of ascending tag order');
    previousTag = el.tag;
    if (headerLength === undefined && el.tag >= Tags.PixelData) headerLength = pos;
    if (el.tag === Tags.SpecificCharacterSet && el.length !== UNDEFINED_LENGTH) charset = stringValue(reader.valueBytes(el));
    if (want.has(el.tag) && el.length !== UNDEFINED_LENGTH) values.set(el.tag, textOf(reader.valueBytes(el), el.vr, charset));
    pos = el.end;
  }
  if (extent === 'complete') headerLength ??= pos;
  return {
    sopClassUid: values.get(Tags.SopClassUid),
    sopInstanceUid: values.get(Tags.SopInstanceUid),
    studyInstanceUid: values.get(Tags.StudyInstanceUid),
    seriesInstanceUid: values.get(Tags.SeriesInstanceUid),
    modality: values.get(Tags.Modality),
    values,
    extent,
    openElement,
    headerLength: ts?.deflated ? undefined : headerLength,
  };
}

/**
 * The top-level elements before Pixel Data, copied out of `bytes` (the start of a dataset of
 * `datasetLength` bytes, summarised as `summary`); undefined when `bytes` may not hold them all.
 */
export function headerOf(bytes: Buffer, summary: DatasetSummary, datasetLength: number): Buffer | undefined {
  const len = summary.headerLength;
  // a prefix that ends on an element boundary may stop before the header does
  if (len === undefined || (len >= bytes.length && bytes.length < datasetLength)) return undefined;
  // a copy: a view would keep the whole prefix alive while the object waits in the pipeline
  return Buffer.from(bytes.subarray(0, len));
}

function headerOnly(data: Buffer, at: number, explicitVr: boolean, littleEndian: boolean): DatasetSummary['openElement'] {
  const u16 = (o: number) => (littleEndian ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number) => (littleEndian ? data.readUInt32LE(o) : data.readUInt32BE(o));
  if (at + 12 > data.length) return undefined;
  const tag = ((u16(at) << 16) | u16(at + 2)) >>> 0;
  if (!explicitVr) return { tag, valueStart: at + 8, length: u32(at + 4) };
  const vr = data.toString('latin1', at + 4, at + 6);
  return hasLongLength(vr) ? { tag, valueStart: at + 12, length: u32(at + 8) } : { tag, valueStart: at + 8, length: u16(at + 6) };
}
