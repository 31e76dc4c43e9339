import { ElementHeader, ElementReader, Encoding, stringValue, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { encodeElement, encodeItem, NewElement, paddedValue, textValue } from '../dicom/element-writer';
import { Edit, spliceDataset } from '../dicom/splice';
import { tag, Tags } from '../dicom/tags';
import { blockTag, choosePrivateBlock, creatorTag } from './private-block';
import { bodyPartTerm } from '../regions/body-part-terms';
import { labelDescription, LO_MAX } from './series-description';
import { UNKNOWN } from '../regions/region';
import type { Evidence } from '../classify/classification';

/** What bodyroute writes into one image. */
export interface RegionLabel {
  /** The image's own region ('unknown' below the model's threshold). */
  imageRegion: string;
  confidence: number;
  model: string;
  /** What decided the image's region: the image alone, the image with the header as a prior, or the header. */
  evidence?: Evidence;
  /** Series mode: the series' regions, head to foot, and the one term for the series. */
  series?: { regions: string[]; term: string };
}

export interface TagOptions {
  privateGroup: number;
  privateCreator: string;
  seriesDescription: 'off' | 'append' | 'prefix';
  bodyPartExamined: 'off' | 'fill-if-empty' | 'overwrite';
  software: string;
  /** A standard element bodyroute left alone, and why (logged by the caller). */
  onSkipped?: (what: string, reason: string) => void;
}

/** Offsets of bodyroute's elements inside its private block (docs/conformance.md). */
export const PrivateOffsets = { ImageRegion: 0x01, Confidence: 0x02, Model: 0x03, SeriesRegions: 0x04, Software: 0x05, Evidence: 0x06 } as const;

/** (gggg,xx06) Evidence, CS: which evidence decided the image's region. */
const EVIDENCE_TERMS: Record<Evidence, string> = { image: 'IMAGE', 'image+header': 'IMAGE_HEADER', header: 'HEADER' };

const ORIGINAL_ATTRIBUTES_SEQUENCE = tag(0x0400, 0x0561);
const MODIFIED_ATTRIBUTES_SEQUENCE = tag(0x0400, 0x0550);

function dicomDateTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

/** LO: no backslash or control characters, at most 64 characters. */
function loSafe(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return s.replace(/[\\\x00-\x1f]/g, ' ');
}

/**
 * Returns the dataset with bodyroute's private block, and the optional standard elements,
 * spliced in; the originals of changed standard elements go into the Original Attributes
 * Sequence (PS3.3 C.12.1). Nothing else changes.
 */
export function tagDataset(data: Buffer, enc: Encoding, label: RegionLabel, opts: TagOptions, now = new Date()): Buffer {
  return spliceDataset(data, enc, tagEdits(data, enc, label, opts, now));
}

/**
 * The elements tagging sets. `data` may be the dataset or just its top-level elements before
 * Pixel Data: everything tagging reads and writes lies there.
 */
export function tagEdits(data: Buffer, enc: Encoding, label: RegionLabel, opts: TagOptions, now = new Date()): Edit[] {
  const { block, reserve } = choosePrivateBlock(data, enc, opts.privateGroup, opts.privateCreator);
  const g = opts.privateGroup;
  const set = (t: number, vr: string, text: string): Edit => ({ kind: 'set', element: { tag: t, vr, value: textValue(vr, text) } });
  const edits: Edit[] = [];
  if (reserve) edits.push(set(creatorTag(g, block), 'LO', opts.privateCreator));
  edits.push(set(blockTag(g, block, PrivateOffsets.ImageRegion), 'CS', bodyPartTerm(label.imageRegion)));
  edits.push(set(blockTag(g, block, PrivateOffsets.Confidence), 'DS', label.confidence.toFixed(4)));
  edits.push(set(blockTag(g, block, PrivateOffsets.Model), 'LO', loSafe(label.model).slice(0, LO_MAX)));
  if (label.series) edits.push(set(blockTag(g, block, PrivateOffsets.SeriesRegions), 'CS', label.series.regions.map(bodyPartTerm).join('\\')));
  edits.push(set(blockTag(g, block, PrivateOffsets.Software), 'LO', loSafe(opts.software).slice(0, LO_MAX)));
  if (label.evidence) edits.push(set(blockTag(g, block, PrivateOffsets.Evidence), 'CS', EVIDENCE_TERMS[label.evidence]));

  // the standard elements carry the series label in series mode, the image's region otherwise
  const term = label.series ? label.series.term : label.imageRegion === UNKNOWN ? undefined : bodyPartTerm(label.imageRegion);
  const originals: Buffer[] = [];
  if (term) {
    const existing = topLevel(data, enc, [Tags.SpecificCharacterSet, Tags.SeriesDescription, Tags.BodyPartExamined]);
    const change = (t: number, vr: string, value: Buffer, current: { el: ElementHeader; value: string } | undefined) => {
      const padded = paddedValue(vr, value);
      if (current && data.subarray(current.el.valueStart, current.el.valueStart + current.el.length).equals(padded)) return;
      edits.push({ kind: 'set', element: { tag: t, vr, value: padded } });
      if (current) originals.push(Buffer.from(data.subarray(current.el.start, current.el.end)));
    };
    if (opts.seriesDescription !== 'off') {
      const cur = existing.get(Tags.SeriesDescription);
      const bytes = cur ? data.subarray(cur.el.valueStart, cur.el.valueStart + cur.el.length) : undefined;
      const edit = labelDescription(bytes, existing.get(Tags.SpecificCharacterSet)?.value, term, opts.seriesDescription);
      if ('unchanged' in edit) opts.onSkipped?.('Series Description left unchanged', edit.unchanged);
      else change(Tags.SeriesDescription, 'LO', edit.value, cur);
    }
    const bp = existing.get(Tags.BodyPartExamined);
    if (opts.bodyPartExamined === 'overwrite' || (opts.bodyPartExamined === 'fill-if-empty' && !bp?.value)) {
      change(Tags.BodyPartExamined, 'CS', Buffer.from(term, 'latin1'), bp);
    }
  }
  if (originals.length) {
    const modified = encodeElement({ tag: MODIFIED_ATTRIBUTES_SEQUENCE, vr: 'SQ', value: encodeItem(Buffer.concat(originals), enc) }, enc);
    const item: NewElement[] = [
      { tag: tag(0x0400, 0x0562), vr: 'DT', value: textValue('DT', dicomDateTime(now)) },
      { tag: tag(0x0400, 0x0563), vr: 'LO', value: textValue('LO', 'BODYROUTE') },
      { tag: tag(0x0400, 0x0564), vr: 'LO', value: Buffer.alloc(0) },
      { tag: tag(0x0400, 0x0565), vr: 'CS', value: textValue('CS', 'COERCE') },
    ];
    edits.push({ kind: 'appendItem', tag: ORIGINAL_ATTRIBUTES_SEQUENCE, itemBody: Buffer.concat([modified, ...item.map((e) => encodeElement(e, enc))]) });
  }
  return edits;
}

function topLevel(data: Buffer, enc: Encoding, tags: number[]): Map<number, { el: ElementHeader; value: string }> {
  const want = new Set(tags);
  const out = new Map<number, { el: ElementHeader; value: string }>();
  const reader = new ElementReader(data, enc);
  for (const el of reader.elements()) {
    if (want.has(el.tag) && el.length !== UNDEFINED_LENGTH) out.set(el.tag, { el, value: stringValue(reader.valueBytes(el)).trim() });
    if (el.tag > Math.max(...tags)) break;
  }
  return out;
}
