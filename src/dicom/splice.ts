import { ElementHeader, ElementReader, Encoding, UNDEFINED_LENGTH } from './element-reader';
import { encodeElement, encodeItem, NewElement } from './element-writer';

/**
 * Byte-faithful editing of a dataset: new and replaced top-level elements are encoded in the
 * dataset's own encoding and spliced in at their place in tag order; every other byte is copied
 * as it was (sequences, undefined lengths, encapsulated pixel data untouched).
 */
export type Edit =
  | { kind: 'set'; element: NewElement }
  /** Adds an item to a top-level sequence, creating the sequence if it is absent. */
  | { kind: 'appendItem'; tag: number; itemBody: Buffer };

/** One piece of an edited dataset: a range of the original bytes, or bytes bodyroute wrote. */
export type SplicePart = { copy: [from: number, to: number] } | { bytes: Buffer };

export function spliceDataset(data: Buffer, enc: Encoding, edits: Edit[]): Buffer {
  return Buffer.concat(planSplice(data, enc, edits, data.length).map((p) => ('bytes' in p ? p.bytes : data.subarray(p.copy[0], p.copy[1]))));
}

/**
 * The edited dataset as parts, without copying the original bytes. `data` may be a prefix of a
 * dataset of `datasetLength` bytes that holds every top-level element before Pixel Data (and ends
 * at an element boundary): edits then all fall inside it, and the rest is one final copy.
 */
export function planSplice(data: Buffer, enc: Encoding, edits: Edit[], datasetLength: number): SplicePart[] {
  const byTag = new Map<number, Edit>();
  for (const e of edits) byTag.set(e.kind === 'set' ? e.element.tag : e.tag, e);
  const pending = [...byTag.keys()].sort((a, b) => a - b);
  if (data.length < datasetLength && pending.length && pending[pending.length - 1] >= PIXEL_DATA) {
    throw new Error('edits at or after Pixel Data need the whole dataset');
  }
  const reader = new ElementReader(data, enc);
  const out: SplicePart[] = [];
  const groupDelta = new Map<number, number>();
  const groupLengthAt = new Map<number, number>(); // group → index in out of its (gggg,0000) element
  let copyFrom = 0;
  const flushCopy = (to: number) => {
    if (to > copyFrom) out.push({ copy: [copyFrom, to] });
    copyFrom = to;
  };
  const emit = (tag: number, existing?: ElementHeader) => {
    const edit = byTag.get(tag) as Edit;
    const bytes = encodeEdit(edit, existing, data, enc);
    out.push({ bytes });
    const group = tag >>> 16;
    groupDelta.set(group, (groupDelta.get(group) ?? 0) + bytes.length - (existing ? existing.end - existing.start : 0));
  };
  for (const el of reader.elements()) {
    while (pending.length && pending[0] < el.tag) {
      flushCopy(el.start);
      emit(pending.shift() as number);
    }
    if (pending.length && pending[0] === el.tag) {
      flushCopy(el.start);
      emit(pending.shift() as number, el);
      copyFrom = el.end;
      continue;
    }
    if ((el.tag & 0xffff) === 0 && el.length === 4) {
      flushCopy(el.start);
      groupLengthAt.set(el.tag >>> 16, out.length);
      out.push({ bytes: Buffer.from(data.subarray(el.start, el.end)) });
      copyFrom = el.end;
    }
  }
  flushCopy(data.length);
  while (pending.length) emit(pending.shift() as number);
  if (datasetLength > data.length) out.push({ copy: [data.length, datasetLength] });
  // retired group length elements, where present, must still be right
  for (const [group, index] of groupLengthAt) {
    const delta = groupDelta.get(group);
    if (!delta) continue;
    const b = (out[index] as { bytes: Buffer }).bytes;
    const at = b.length - 4;
    if (enc.littleEndian) b.writeUInt32LE(b.readUInt32LE(at) + delta, at);
    else b.writeUInt32BE(b.readUInt32BE(at) + delta, at);
  }
  return out;
}

/** Bytes of the dataset the parts describe. */
export function splicedLength(parts: readonly SplicePart[]): number {
  return parts.reduce((n, p) => n + ('bytes' in p ? p.bytes.length : p.copy[1] - p.copy[0]), 0);
}

const PIXEL_DATA = 0x7fe00010;

function encodeEdit(edit: Edit, existing: ElementHeader | undefined, data: Buffer, enc: Encoding): Buffer {
  if (edit.kind === 'set') return encodeElement(edit.element, enc);
  const item = encodeItem(edit.itemBody, enc);
  if (!existing) return encodeElement({ tag: edit.tag, vr: 'SQ', value: item }, enc);
  if (existing.length === UNDEFINED_LENGTH) {
    // keep the existing encoding: our item goes just before the sequence delimiter
    const delimiterAt = existing.end - 8;
    return Buffer.concat([data.subarray(existing.start, delimiterAt), item, data.subarray(delimiterAt, existing.end)]);
  }
  const header = Buffer.from(data.subarray(existing.start, existing.valueStart));
  const newLength = existing.length + item.length;
  const lengthAt = header.length - 4;
  if (enc.littleEndian) header.writeUInt32LE(newLength, lengthAt);
  else header.writeUInt32BE(newLength, lengthAt);
  return Buffer.concat([header, data.subarray(existing.valueStart, existing.end), item]);
}
