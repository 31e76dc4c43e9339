import { Tags } from './tags';

/**
 * Walks the top-level elements of an encoded dataset without decoding values.
 * Nested sequences and encapsulated pixel data are stepped over, so the reader
 * can find element boundaries in any object the router passes through.
 */

export const UNDEFINED_LENGTH = 0xffffffff;

export interface Encoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

export interface ElementHeader {
  tag: number;
  /** Two-letter VR as written, or undefined in implicit VR. */
  vr: string | undefined;
  /** Offset of the tag's first byte. */
  start: number;
  /** Offset of the value's first byte. */
  valueStart: number;
  /** Declared length, UNDEFINED_LENGTH for undefined. */
  length: number;
  /** Offset just past the element, delimiters included. */
  end: number;
}

/** The buffer ended before the element did: more bytes are needed (or the object is truncated). */
export class TruncatedError extends Error {
  constructor(
    readonly at: number,
    readonly needed: number,
  ) {
    super(`dataset truncated at byte ${at}: element needs ${needed} bytes`);
  }
}

/** The bytes cannot be a dataset in this encoding. */
export class MalformedError extends Error {
  constructor(
    readonly at: number,
    reason: string,
  ) {
    super(`malformed dataset at byte ${at}: ${reason}`);
  }
}

const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const VR_PATTERN = /^[A-Z]{2}$/;
export const MAX_NESTING = 32;

export function hasLongLength(vr: string): boolean {
  return LONG_LENGTH_VRS.has(vr);
}

export class ElementReader {
  constructor(
    private readonly buf: Buffer,
    private readonly enc: Encoding,
    /** Where the dataset ends inside buf (defaults to its length). */
    private readonly limit: number = buf.length,
  ) {}

  private u16(at: number): number {
    this.need(at, 2);
    return this.enc.littleEndian ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  private u32(at: number): number {
    this.need(at, 4);
    return this.enc.littleEndian ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  private need(at: number, n: number): void {
    if (at + n > this.limit) throw new TruncatedError(at, n);
  }

  private readTag(at: number): number {
    return ((this.u16(at) << 16) | this.u16(at + 2)) >>> 0;
  }

  /** Reads the element header at `at` and finds where the element ends. */
  readElement(at: number, depth = 0): ElementHeader {
    const tag = this.readTag(at);
    if (tag === Tags.Item || tag === Tags.ItemDelimitation || tag === Tags.SequenceDelimitation) {
      throw new MalformedError(at, `unexpected delimiter ${tag.toString(16)} in a dataset`);
    }
    let vr: string | undefined;
    let length: number;
    let valueStart: number;
    if (this.enc.explicitVr) {
      this.need(at + 4, 2);
      vr = this.buf.toString('latin1', at + 4, at + 6);
      if (!VR_PATTERN.test(vr)) throw new MalformedError(at, `invalid VR bytes after tag ${tag.toString(16)}`);
      if (hasLongLength(vr)) {
        length = this.u32(at + 8);
        valueStart = at + 12;
      } else {
        length = this.u16(at + 6);
        valueStart = at + 8;
      }
    } else {
      length = this.u32(at + 4);
      valueStart = at + 8;
    }
    let end: number;
    if (length === UNDEFINED_LENGTH) {
      if (vr !== undefined && vr !== 'SQ' && vr !== 'OB' && vr !== 'UN' && vr !== 'OW') {
        throw new MalformedError(at, `undefined length on VR ${vr}`);
      }
      end = this.skipUndefinedLengthValue(valueStart, depth + 1);
    } else {
      end = valueStart + length;
      if (end > this.limit) throw new TruncatedError(valueStart, length);
    }
    return { tag, vr, start: at, valueStart, length, end };
  }

  /** Items (or fragments) up to and including the sequence delimiter. */
  private skipUndefinedLengthValue(at: number, depth: number): number {
    if (depth > MAX_NESTING) throw new MalformedError(at, `nesting deeper than ${MAX_NESTING}`);
    let pos = at;
    for (;;) {
      const itemTag = this.readTag(pos);
      const itemLength = this.u32(pos + 4);
      if (itemTag === Tags.SequenceDelimitation) return pos + 8;
      if (itemTag !== Tags.Item) throw new MalformedError(pos, `expected an item, found ${itemTag.toString(16)}`);
      if (itemLength === UNDEFINED_LENGTH) {
        pos = this.skipUndefinedLengthItem(pos + 8, depth + 1);
      } else {
        pos = pos + 8 + itemLength;
        if (pos > this.limit) throw new TruncatedError(pos - itemLength, itemLength);
      }
    }
  }

  private skipUndefinedLengthItem(at: number, depth: number): number {
    if (depth > MAX_NESTING) throw new MalformedError(at, `nesting deeper than ${MAX_NESTING}`);
    let pos = at;
    for (;;) {
      if (this.readTag(pos) === Tags.ItemDelimitation) return pos + 8;
      pos = this.readElement(pos, depth).end;
    }
  }

  /** All top-level elements from `at` to the limit. */
  *elements(at = 0): Generator<ElementHeader> {
    let pos = at;
    while (pos < this.limit) {
      const el = this.readElement(pos);
      yield el;
      pos = el.end;
    }
  }

  valueBytes(el: ElementHeader): Buffer {
    if (el.length === UNDEFINED_LENGTH) throw new Error('element has undefined length');
    return this.buf.subarray(el.valueStart, el.valueStart + el.length);
  }
}

/** A string value without its trailing padding (space or NUL). */
export function stringValue(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\0 ]+$/, '');
}

/** The items of a sequence element, each as [start, end) of its nested dataset. */
export function sequenceItems(buf: Buffer, el: ElementHeader, enc: Encoding): { start: number; end: number }[] {
  const u32 = (at: number) => (enc.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const tagAt = (at: number) =>
    (((enc.littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at)) << 16) | (enc.littleEndian ? buf.readUInt16LE(at + 2) : buf.readUInt16BE(at + 2))) >>> 0;
  const items: { start: number; end: number }[] = [];
  const stop = el.length === UNDEFINED_LENGTH ? el.end : el.valueStart + el.length;
  let pos = el.valueStart;
  while (pos + 8 <= stop) {
    const t = tagAt(pos);
    if (t === Tags.SequenceDelimitation) break;
    if (t !== Tags.Item) throw new MalformedError(pos, 'expected an item in a sequence');
    const len = u32(pos + 4);
    if (len === UNDEFINED_LENGTH) {
      const reader = new ElementReader(buf, enc, stop);
      let p = pos + 8;
      while (tagAt(p) !== Tags.ItemDelimitation) p = reader.readElement(p, 1).end;
      items.push({ start: pos + 8, end: p });
      pos = p + 8;
    } else {
      items.push({ start: pos + 8, end: pos + 8 + len });
      pos += 8 + len;
    }
  }
  return items;
}
