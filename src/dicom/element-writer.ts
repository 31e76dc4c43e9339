import { Encoding, hasLongLength } from './element-reader';

/** An element to write: its tag, VR and value bytes (already in the dataset's byte order, even length). */
export interface NewElement {
  tag: number;
  vr: string;
  value: Buffer;
}

/** Encodes one element header + value in the dataset's encoding. Implicit VR writes no VR. */
export function encodeElement(el: NewElement, enc: Encoding): Buffer {
  const group = el.tag >>> 16;
  const element = el.tag & 0xffff;
  let head: Buffer;
  const w16 = (b: Buffer, v: number, at: number) => (enc.littleEndian ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const w32 = (b: Buffer, v: number, at: number) => (enc.littleEndian ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  if (!enc.explicitVr) {
    head = Buffer.alloc(8);
    w32(head, el.value.length, 4);
  } else if (hasLongLength(el.vr)) {
    head = Buffer.alloc(12);
    head.write(el.vr, 4, 'latin1');
    w32(head, el.value.length, 8);
  } else {
    if (el.value.length > 0xffff) throw new Error(`value of ${el.tag.toString(16)} too long for VR ${el.vr}`);
    head = Buffer.alloc(8);
    head.write(el.vr, 4, 'latin1');
    w16(head, el.value.length, 6);
  }
  w16(head, group, 0);
  w16(head, element, 2);
  return Buffer.concat([head, el.value]);
}

/** A text value padded to even length (space; UI pads with NUL). */
export function textValue(vr: string, text: string): Buffer {
  return paddedValue(vr, Buffer.from(text, 'latin1'));
}

/** A value padded to even length: NUL for UI, space for the other string VRs. */
export function paddedValue(vr: string, b: Buffer): Buffer {
  return b.length % 2 ? Buffer.concat([b, Buffer.from([vr === 'UI' ? 0 : 0x20])]) : b;
}

/** An item with defined length holding already-encoded elements. */
export function encodeItem(body: Buffer, enc: Encoding): Buffer {
  const head = Buffer.alloc(8);
  if (enc.littleEndian) {
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(body.length, 4);
  } else {
    head.writeUInt16BE(0xfffe, 0);
    head.writeUInt16BE(0xe000, 2);
    head.writeUInt32BE(body.length, 4);
  }
  return Buffer.concat([head, body]);
}
