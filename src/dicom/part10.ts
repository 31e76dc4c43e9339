import { ElementReader, stringValue, TruncatedError, MalformedError } from './element-reader';
import { Tags } from './tags';
import { IMPLEMENTATION_CLASS_UID } from './uids';

/** PS3.10 file framing: 128-byte preamble, "DICM", file meta group (explicit VR LE), dataset. */

const PREAMBLE_LENGTH = 128;
const MAGIC = 'DICM';
export const IMPLEMENTATION_VERSION_NAME = 'BODYROUTE_01';
/** Identifies bodyroute's own (0002,0102) Private Information in the spool. */
export const PRIVATE_INFORMATION_CREATOR_UID = `${IMPLEMENTATION_CLASS_UID}.1`;

export interface FileMetaInput {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
  /** Opaque application data kept in (0002,0102); bodyroute stores the receive context there. */
  privateInformation?: Buffer;
}

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
  privateInformation?: Buffer;
  /** Offset of the dataset's first byte in the file. */
  datasetOffset: number;
}

function padEven(value: Buffer, pad: number): Buffer {
  return value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([pad])]);
}

function explicitLeElement(group: number, element: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB' || vr === 'UN';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(element, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

const uid = (s: string) => padEven(Buffer.from(s, 'latin1'), 0);
const text = (s: string) => padEven(Buffer.from(s, 'latin1'), 0x20);

/** Preamble + "DICM" + file meta group, ready to be followed by the dataset bytes. */
export function buildFileMetaHeader(input: FileMetaInput): Buffer {
  const elements = [
    explicitLeElement(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    explicitLeElement(0x0002, 0x0002, 'UI', uid(input.sopClassUid)),
    explicitLeElement(0x0002, 0x0003, 'UI', uid(input.sopInstanceUid)),
    explicitLeElement(0x0002, 0x0010, 'UI', uid(input.transferSyntaxUid)),
    explicitLeElement(0x0002, 0x0012, 'UI', uid(IMPLEMENTATION_CLASS_UID)),
    explicitLeElement(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME)),
  ];
  if (input.sourceAeTitle) elements.push(explicitLeElement(0x0002, 0x0016, 'AE', text(input.sourceAeTitle)));
  if (input.privateInformation) {
    elements.push(explicitLeElement(0x0002, 0x0100, 'UI', uid(PRIVATE_INFORMATION_CREATOR_UID)));
    elements.push(explicitLeElement(0x0002, 0x0102, 'OB', padEven(input.privateInformation, 0x20)));
  }
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  const preamble = Buffer.alloc(PREAMBLE_LENGTH + 4);
  preamble.write(MAGIC, PREAMBLE_LENGTH, 'latin1');
  return Buffer.concat([preamble, explicitLeElement(0x0002, 0x0000, 'UL', groupLength), body]);
}

export function hasPart10Preamble(buf: Buffer): boolean {
  return buf.length >= PREAMBLE_LENGTH + 4 && buf.toString('latin1', PREAMBLE_LENGTH, PREAMBLE_LENGTH + 4) === MAGIC;
}

/**
 * Reads the file meta group from the start of a Part-10 file (the buffer may hold
 * only a prefix of the file, as long as the whole meta group is in it).
 */
export function readFileMeta(buf: Buffer): FileMeta {
  if (!hasPart10Preamble(buf)) throw new MalformedError(PREAMBLE_LENGTH, 'no DICM prefix: not a DICOM Part-10 file');
  const reader = new ElementReader(buf, { explicitVr: true, littleEndian: true });
  const values = new Map<number, Buffer>();
  let pos = PREAMBLE_LENGTH + 4;
  let metaEnd: number | undefined;
  while (metaEnd === undefined || pos < metaEnd) {
    if (pos + 4 > buf.length) {
      if (metaEnd === undefined) break; // meta group without group length ends with the buffer
      throw new TruncatedError(pos, 4);
    }
    if (buf.readUInt16LE(pos) !== 0x0002) break;
    const el = reader.readElement(pos);
    if (el.tag === Tags.FileMetaInformationGroupLength && el.length === 4) {
      metaEnd = el.end + buf.readUInt32LE(el.valueStart);
    }
    values.set(el.tag, reader.valueBytes(el));
    pos = el.end;
  }
  const str = (t: number) => {
    const v = values.get(t);
    return v === undefined ? undefined : stringValue(v);
  };
  const transferSyntaxUid = str(Tags.TransferSyntaxUid);
  if (!transferSyntaxUid) throw new MalformedError(pos, 'file meta has no Transfer Syntax UID');
  const privateCreator = str(0x00020100);
  return {
    sopClassUid: str(Tags.MediaStorageSopClassUid) ?? '',
    sopInstanceUid: str(Tags.MediaStorageSopInstanceUid) ?? '',
    transferSyntaxUid,
    sourceAeTitle: str(Tags.SourceApplicationEntityTitle),
    privateInformation: privateCreator === PRIVATE_INFORMATION_CREATOR_UID ? values.get(0x00020102) : undefined,
    datasetOffset: pos,
  };
}
