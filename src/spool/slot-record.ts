import { crc32 } from 'node:zlib';

/**
 * The record a receive into a slot file (SlotFiles) writes into its Part-10 preamble, the 128 bytes
 * PS3.10 §7.1 leaves to the implementation. It is what makes one fdatasync enough to acknowledge: after a
 * crash, a slot file is an acknowledged object exactly when its record names this slot file, gives the
 * file's length, and its CRC-32 matches every byte after it. Any other content — a slot never written,
 * a receive cut short, a delivered object's bytes the slot was made from (their record names another
 * slot file) — fails one of the three, so a slot file never needs zeroing or a rename to be trusted.
 *
 *   0..7    magic "BRSLOT01"
 *   8..11   CRC-32 (LE) of bytes 128..end of the file, then of bytes 12..127 of the record
 *   12..19  length of the whole file (LE, 64-bit)
 *   20..63  slot file name (ASCII, zero-padded)
 *   64..127 object id (ASCII, zero-padded)
 */
export const SLOT_RECORD_BYTES = 128;

const MAGIC = Buffer.from('BRSLOT01', 'latin1');
const CRC_AT = 8;
const LENGTH_AT = 12;
const NAME_AT = 20;
const ID_AT = 64;
const NAME_BYTES = ID_AT - NAME_AT;
const ID_BYTES = SLOT_RECORD_BYTES - ID_AT;

export interface SlotRecord {
  slotName: string;
  id: string;
  fileBytes: number;
}

/** The record for a file whose bytes after the preamble have CRC-32 `bodyCrc`. */
export function encodeSlotRecord(record: SlotRecord, bodyCrc: number): Buffer {
  if (Buffer.byteLength(record.slotName, 'latin1') > NAME_BYTES || Buffer.byteLength(record.id, 'latin1') > ID_BYTES) {
    throw new RangeError('slot name or object id too long for the slot record');
  }
  const b = Buffer.alloc(SLOT_RECORD_BYTES);
  MAGIC.copy(b, 0);
  b.writeBigUInt64LE(BigInt(record.fileBytes), LENGTH_AT);
  b.write(record.slotName, NAME_AT, 'latin1');
  b.write(record.id, ID_AT, 'latin1');
  b.writeUInt32LE(crc32(b.subarray(LENGTH_AT), bodyCrc), CRC_AT);
  return b;
}

/**
 * The record of a slot file if it proves an acknowledged object: `preamble` its first 128 bytes, `bodyCrc`
 * the CRC-32 of the rest, `fileBytes` its length, `slotName` its name. Undefined for anything else.
 */
export function verifySlotRecord(preamble: Buffer, bodyCrc: number, fileBytes: number, slotName: string): SlotRecord | undefined {
  if (!slotRecordMayHold(preamble, fileBytes, slotName)) return undefined;
  if (preamble.readUInt32LE(CRC_AT) !== crc32(preamble.subarray(LENGTH_AT, SLOT_RECORD_BYTES), bodyCrc)) return undefined;
  return { slotName, id: text(preamble, ID_AT, SLOT_RECORD_BYTES), fileBytes };
}

/** Whether the preamble claims this slot file and length (checked before its CRC, which needs the whole file read). */
export function slotRecordMayHold(preamble: Buffer, fileBytes: number, slotName: string): boolean {
  return (
    preamble.length >= SLOT_RECORD_BYTES &&
    preamble.subarray(0, MAGIC.length).equals(MAGIC) &&
    text(preamble, NAME_AT, ID_AT) === slotName &&
    Number(preamble.readBigUInt64LE(LENGTH_AT)) === fileBytes
  );
}

function text(b: Buffer, from: number, to: number): string {
  const field = b.subarray(from, to);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('latin1');
}
