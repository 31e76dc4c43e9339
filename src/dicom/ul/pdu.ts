import { APPLICATION_CONTEXT_NAME, IMPLEMENTATION_CLASS_UID, trimUidPadding } from '../uids';
import { IMPLEMENTATION_VERSION_NAME } from '../part10';
import { AbortReason, AbortSource, ItemType, PduType } from './constants';

export { PduType };

/** DICOM upper-layer PDUs (PS3.8 §9.3) that bodyroute's receiver and sender write and read. */

export interface ProposedContext {
  id: number; // odd, 1..255
  abstractSyntaxUid: string;
  transferSyntaxUids: string[];
}

export interface AssociateRequest {
  callingAeTitle: string;
  calledAeTitle: string;
  contexts: ProposedContext[];
  maxPduLength: number;
}

export interface ContextResult {
  id: number;
  /** 0 acceptance, 1 user-rejection, 2 no-reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported */
  result: number;
  transferSyntaxUid: string;
}

export interface AssociateAccept {
  contexts: ContextResult[];
  /** Largest PDU the peer accepts (0 = unlimited). */
  maxPduLength: number;
}

function item(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function pdu(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = type;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

function aeField(ae: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(ae.slice(0, 16), 0, 'latin1');
  return b;
}

export function encodeAssociateRq(rq: AssociateRequest): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version
  aeField(rq.calledAeTitle).copy(fixed, 4);
  aeField(rq.callingAeTitle).copy(fixed, 20);
  const parts: Buffer[] = [fixed, item(ItemType.ApplicationContext, ascii(APPLICATION_CONTEXT_NAME))];
  for (const c of rq.contexts) {
    const head = Buffer.from([c.id, 0, 0, 0]);
    const subItems = [item(ItemType.AbstractSyntax, ascii(c.abstractSyntaxUid)), ...c.transferSyntaxUids.map((t) => item(ItemType.TransferSyntax, ascii(t)))];
    parts.push(item(ItemType.PresentationContextRq, Buffer.concat([head, ...subItems])));
  }
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(rq.maxPduLength, 0);
  const userInfo = Buffer.concat([
    item(ItemType.MaxLength, maxLen),
    item(ItemType.ImplementationClassUid, ascii(IMPLEMENTATION_CLASS_UID)),
    item(ItemType.ImplementationVersionName, ascii(IMPLEMENTATION_VERSION_NAME)),
  ]);
  parts.push(item(ItemType.UserInformation, userInfo));
  return pdu(PduType.AssociateRq, Buffer.concat(parts));
}

export class PduFormatError extends Error {}

function trimUid(b: Buffer): string {
  return trimUidPadding(b.toString('latin1'));
}

/** Parses the body (after the 6-byte header) of an A-ASSOCIATE-AC. */
export function decodeAssociateAc(body: Buffer): AssociateAccept {
  if (body.length < 68) throw new PduFormatError('A-ASSOCIATE-AC too short');
  const contexts: ContextResult[] = [];
  let maxPduLength = 0;
  let pos = 68;
  while (pos + 4 <= body.length) {
    const type = body[pos];
    const len = body.readUInt16BE(pos + 2);
    const value = body.subarray(pos + 4, pos + 4 + len);
    if (value.length < len) throw new PduFormatError('A-ASSOCIATE-AC item runs past the PDU');
    if (type === ItemType.PresentationContextAc) {
      if (len < 4) throw new PduFormatError('presentation context item too short');
      let ts = '';
      let sub = 4;
      while (sub + 4 <= value.length) {
        const subLen = value.readUInt16BE(sub + 2);
        if (value[sub] === ItemType.TransferSyntax) ts = trimUid(value.subarray(sub + 4, sub + 4 + subLen));
        sub += 4 + subLen;
      }
      contexts.push({ id: value[0], result: value[2], transferSyntaxUid: ts });
    } else if (type === ItemType.UserInformation) {
      let sub = 0;
      while (sub + 4 <= value.length) {
        const subLen = value.readUInt16BE(sub + 2);
        if (value[sub] === ItemType.MaxLength && subLen === 4) maxPduLength = value.readUInt32BE(sub + 4);
        sub += 4 + subLen;
      }
    }
    pos += 4 + len;
  }
  return { contexts, maxPduLength };
}

/** What an A-ASSOCIATE-RQ asks for (the parts an SCP acts on). */
export interface ReceivedAssociateRequest extends AssociateRequest {
  applicationContextName: string;
  implementationClassUid: string;
  implementationVersionName: string;
}

function aeOf(b: Buffer): string {
  return b.toString('latin1').trim();
}

/** Parses the body of an A-ASSOCIATE-RQ; throws PduFormatError on anything malformed. */
export function decodeAssociateRq(body: Buffer): ReceivedAssociateRequest {
  if (body.length < 68) throw new PduFormatError('A-ASSOCIATE-RQ too short');
  const out: ReceivedAssociateRequest = {
    calledAeTitle: aeOf(body.subarray(4, 20)),
    callingAeTitle: aeOf(body.subarray(20, 36)),
    contexts: [],
    maxPduLength: 0,
    applicationContextName: '',
    implementationClassUid: '',
    implementationVersionName: '',
  };
  let pos = 68;
  while (pos < body.length) {
    if (pos + 4 > body.length) throw new PduFormatError('A-ASSOCIATE-RQ ends inside an item header');
    const type = body[pos];
    const len = body.readUInt16BE(pos + 2);
    const value = body.subarray(pos + 4, pos + 4 + len);
    if (value.length < len) throw new PduFormatError('A-ASSOCIATE-RQ item runs past the PDU');
    if (type === ItemType.ApplicationContext) out.applicationContextName = trimUid(value);
    else if (type === ItemType.PresentationContextRq) {
      if (len < 4) throw new PduFormatError('presentation context item too short');
      const ctx: ProposedContext = { id: value[0], abstractSyntaxUid: '', transferSyntaxUids: [] };
      for (const sub of subItems(value, 4)) {
        if (sub.type === ItemType.AbstractSyntax) ctx.abstractSyntaxUid = trimUid(sub.value);
        else if (sub.type === ItemType.TransferSyntax) ctx.transferSyntaxUids.push(trimUid(sub.value));
      }
      out.contexts.push(ctx);
    } else if (type === ItemType.UserInformation) {
      for (const sub of subItems(value, 0)) {
        if (sub.type === ItemType.MaxLength && sub.value.length === 4) out.maxPduLength = sub.value.readUInt32BE(0);
        else if (sub.type === ItemType.ImplementationClassUid) out.implementationClassUid = trimUid(sub.value);
        else if (sub.type === ItemType.ImplementationVersionName) out.implementationVersionName = sub.value.toString('latin1').trim();
      }
    }
    pos += 4 + len;
  }
  return out;
}

function subItems(value: Buffer, from: number): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  let pos = from;
  while (pos < value.length) {
    if (pos + 4 > value.length) throw new PduFormatError('sub-item header runs past its item');
    const len = value.readUInt16BE(pos + 2);
    if (pos + 4 + len > value.length) throw new PduFormatError('sub-item runs past its item');
    out.push({ type: value[pos], value: value.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
  return out;
}

/** The A-ASSOCIATE-AC answering `rq`: one result per proposed context, our max PDU length and implementation. */
export function encodeAssociateAc(rq: AssociateRequest, results: ContextResult[], maxPduLength: number): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  aeField(rq.calledAeTitle).copy(fixed, 4);
  aeField(rq.callingAeTitle).copy(fixed, 20);
  const parts: Buffer[] = [fixed, item(ItemType.ApplicationContext, ascii(APPLICATION_CONTEXT_NAME))];
  for (const r of results) {
    // a rejected context still names a transfer syntax item (its value is not significant)
    parts.push(
      item(ItemType.PresentationContextAc, Buffer.concat([Buffer.from([r.id, 0, r.result, 0]), item(ItemType.TransferSyntax, ascii(r.transferSyntaxUid))])),
    );
  }
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(maxPduLength, 0);
  parts.push(
    item(
      ItemType.UserInformation,
      Buffer.concat([
        item(ItemType.MaxLength, maxLen),
        item(ItemType.ImplementationClassUid, ascii(IMPLEMENTATION_CLASS_UID)),
        item(ItemType.ImplementationVersionName, ascii(IMPLEMENTATION_VERSION_NAME)),
      ]),
    ),
  );
  return pdu(PduType.AssociateAc, Buffer.concat(parts));
}

export function encodeAssociateRj(result: number, source: number, reason: number): Buffer {
  return pdu(PduType.AssociateRj, Buffer.from([0, result, source, reason]));
}

/** A-ASSOCIATE-RJ / A-ABORT body fields. */
export function decodeRejectOrAbort(body: Buffer): { result: number; source: number; reason: number } {
  if (body.length < 4) throw new PduFormatError('A-ASSOCIATE-RJ/A-ABORT too short');
  return { result: body[1], source: body[2], reason: body[3] };
}

/** One P-DATA-TF PDU with one PDV. */
export function encodePData(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer[] {
  return encodePDataPieces(contextId, isCommand, isLast, [data], data.length);
}

/** One P-DATA-TF PDU with one PDV whose data is the concatenation of `pieces` (`length` bytes), without copying them. */
export function encodePDataPieces(contextId: number, isCommand: boolean, isLast: boolean, pieces: Buffer[], length: number): Buffer[] {
  const head = Buffer.alloc(12);
  head[0] = PduType.PData;
  head.writeUInt32BE(length + 6, 2);
  head.writeUInt32BE(length + 2, 6);
  head[10] = contextId;
  head[11] = (isCommand ? 0x01 : 0) | (isLast ? 0x02 : 0);
  return [head, ...pieces];
}

/** One presentation data value as received (PduReader in pdu-parser.ts frames them). */
export interface Pdv {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  data: Buffer;
}

export const RELEASE_RQ = pdu(PduType.ReleaseRq, Buffer.alloc(4));
export const RELEASE_RP = pdu(PduType.ReleaseRp, Buffer.alloc(4));

export function encodeAbort(source: number = AbortSource.ServiceUser, reason: number = AbortReason.NotSpecified): Buffer {
  return pdu(PduType.Abort, Buffer.from([0, 0, source, reason]));
}
