import { trimUidPadding } from '../uids';

/** DIMSE command sets (PS3.7 §9.3, Annex E): always implicit VR little endian. */

export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
} as const;

const NO_DATASET = 0x0101;
const HAS_DATASET = 0x0000;

function element(tagElement: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(tagElement, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

function us(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

/** UIDs are written exactly as received, padded to even length with NUL as PS3.5 requires. */
function ui(v: string): Buffer {
  const b = Buffer.from(v, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from([0])]) : b;
}

function withGroupLength(elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x0000, len), body]);
}

export function encodeCStoreRq(messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  return withGroupLength([
    element(0x0002, ui(sopClassUid)),
    element(0x0100, us(CommandField.CStoreRq)),
    element(0x0110, us(messageId)),
    element(0x0700, us(0x0000)), // priority medium
    element(0x0800, us(HAS_DATASET)),
    element(0x1000, ui(sopInstanceUid)),
  ]);
}

export function encodeCEchoRq(messageId: number): Buffer {
  return withGroupLength([
    element(0x0002, ui('1.2.840.10008.1.1')),
    element(0x0100, us(CommandField.CEchoRq)),
    element(0x0110, us(messageId)),
    element(0x0800, us(NO_DATASET)),
  ]);
}

export function encodeCStoreRsp(messageId: number, sopClassUid: string, sopInstanceUid: string, status: number): Buffer {
  return withGroupLength([
    element(0x0002, ui(sopClassUid)),
    element(0x0100, us(CommandField.CStoreRsp)),
    element(0x0120, us(messageId)),
    element(0x0800, us(NO_DATASET)),
    element(0x0900, us(status)),
    element(0x1000, ui(sopInstanceUid)),
  ]);
}

export function encodeCEchoRsp(messageId: number, status: number): Buffer {
  return withGroupLength([
    element(0x0002, ui('1.2.840.10008.1.1')),
    element(0x0100, us(CommandField.CEchoRsp)),
    element(0x0120, us(messageId)),
    element(0x0800, us(NO_DATASET)),
    element(0x0900, us(status)),
  ]);
}

export interface CommandSet {
  commandField?: number;
  messageId?: number;
  affectedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  messageIdBeingRespondedTo?: number;
  status?: number;
  errorComment?: string;
  hasDataset: boolean;
}

export function decodeCommand(bytes: Buffer): CommandSet {
  const out: CommandSet = { hasDataset: false };
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    const group = bytes.readUInt16LE(pos);
    const el = bytes.readUInt16LE(pos + 2);
    const len = bytes.readUInt32LE(pos + 4);
    const value = bytes.subarray(pos + 8, pos + 8 + len);
    if (value.length < len) throw new Error('command element runs past the command set');
    if (group === 0x0000) {
      if (el === 0x0100 && len >= 2) out.commandField = value.readUInt16LE(0);
      else if (el === 0x0110 && len >= 2) out.messageId = value.readUInt16LE(0);
      else if (el === 0x0002) out.affectedSopClassUid = trimUidPadding(value.toString('latin1'));
      else if (el === 0x1000) out.affectedSopInstanceUid = trimUidPadding(value.toString('latin1'));
      else if (el === 0x0120 && len >= 2) out.messageIdBeingRespondedTo = value.readUInt16LE(0);
      else if (el === 0x0900 && len >= 2) out.status = value.readUInt16LE(0);
      else if (el === 0x0902) out.errorComment = value.toString('latin1').replace(/[\0 ]+$/, '');
      else if (el === 0x0800 && len >= 2) out.hasDataset = value.readUInt16LE(0) !== NO_DATASET;
    }
    pos += 8 + len;
  }
  return out;
}
