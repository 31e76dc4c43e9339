import { PduType } from './constants';
import { Pdv, PduFormatError } from './pdu';

/**
 * The one PDU framer, for both directions. Splits the bytes a peer sends into PDUs without copying P-DATA: control PDUs (association,
 * release, abort) are handed over whole, P-DATA-TF PDUs as PDV headers followed by slices of
 * the socket's own chunks, so a dataset streams to disk as it arrives. Limits are checked on
 * each header before any body byte is kept: an unknown PDU type, an absurd length or a PDV
 * that does not fit its PDU ends the connection instead of being buffered.
 */
export interface PduLimits {
  /** Largest P-DATA-TF PDU accepted (bytes after the 6-byte header). */
  maxDataPduLength: number;
  /** Largest association-control PDU accepted. */
  maxControlPduLength: number;
}

export interface PdvHeader {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  /** Bytes of data in this PDV. */
  length: number;
}

export interface PduHandler {
  control(type: number, body: Buffer): void;
  pdvStart(header: PdvHeader): void;
  pdvData(data: Buffer): void;
  pdvEnd(header: PdvHeader): void;
  /** A P-DATA-TF PDU is complete (after its last PDV). */
  pdataEnd?(): void;
}

const VALID_TYPES: ReadonlySet<number> = new Set(Object.values(PduType));
const PDATA = PduType.PData;

/** The byte stream is not plausible DICOM upper layer: the connection ends. */
export class PduProtocolError extends PduFormatError {}

export class PduParser {
  /** Bytes of a header (PDU: 6, PDV: 6) not yet complete. */
  private header: Buffer = Buffer.alloc(0);
  private pduType = 0;
  /** Body bytes of the current PDU still to come (0 = expecting a PDU header). */
  private pduRemaining = 0;
  private control: Buffer[] = [];
  private pdv: PdvHeader | undefined;
  private pdvRemaining = 0;
  /** When the PDU now arriving began (its first header byte), if one is incomplete (a trickling peer keeps it so). */
  partialSince: number | undefined;
  private pduSince = 0;

  constructor(
    private readonly limits: PduLimits,
    private readonly handler: PduHandler,
  ) {}

  /** Feeds one chunk; throws PduProtocolError when the stream is not plausible DICOM UL. */
  push(chunk: Buffer, now = Date.now()): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.pduRemaining === 0 && this.pdv === undefined) {
        if (this.header.length === 0) this.pduSince = now;
        pos = this.readHeader(chunk, pos, 6);
        if (this.header.length < 6) break;
        this.startPdu();
        continue;
      }
      if (this.pduType !== PDATA) {
        const take = Math.min(this.pduRemaining, chunk.length - pos);
        this.control.push(chunk.subarray(pos, pos + take));
        this.pduRemaining -= take;
        pos += take;
        if (this.pduRemaining === 0) this.endControl();
        continue;
      }
      if (this.pdv === undefined) {
        pos = this.readHeader(chunk, pos, 6);
        if (this.header.length < 6) break;
        this.startPdv();
        continue;
      }
      const take = Math.min(this.pdvRemaining, chunk.length - pos);
      if (take > 0) this.handler.pdvData(chunk.subarray(pos, pos + take));
      this.pdvRemaining -= take;
      this.pduRemaining -= take;
      pos += take;
      if (this.pdvRemaining === 0) this.endPdv();
    }
    const partial = this.pduRemaining > 0 || this.header.length > 0 || this.pdv !== undefined;
    // timed per PDU: a long stream of PDUs whose chunks never end on a boundary is not one slow PDU
    this.partialSince = partial ? this.pduSince : undefined;
  }

  private readHeader(chunk: Buffer, pos: number, size: number): number {
    const part = chunk.subarray(pos, pos + size - this.header.length);
    this.header = this.header.length ? Buffer.concat([this.header, part]) : part;
    return pos + part.length;
  }

  private startPdu(): void {
    const type = this.header[0];
    const length = this.header.readUInt32BE(2);
    this.header = Buffer.alloc(0);
    const hex = `0x${type.toString(16).padStart(2, '0')}`;
    if (!VALID_TYPES.has(type)) throw new PduProtocolError(`unknown PDU type ${hex}`);
    const limit = type === PDATA ? this.limits.maxDataPduLength : this.limits.maxControlPduLength;
    if (length > limit) throw new PduProtocolError(`PDU type ${hex} announces ${length} bytes (limit ${limit})`);
    this.pduType = type;
    this.pduRemaining = length;
    if (type === PDATA && length < 6) throw new PduProtocolError(`P-DATA-TF of ${length} bytes holds no PDV`);
    if (type !== PDATA && length === 0) this.endControl();
  }

  private endControl(): void {
    const body = this.control.length === 1 ? this.control[0] : Buffer.concat(this.control);
    this.control = [];
    this.handler.control(this.pduType, body);
  }

  private startPdv(): void {
    const itemLength = this.header.readUInt32BE(0);
    const contextId = this.header[4];
    const flags = this.header[5];
    this.header = Buffer.alloc(0);
    this.pduRemaining -= 6;
    if (itemLength < 2 || itemLength - 2 > this.pduRemaining) {
      throw new PduProtocolError(`PDV of ${itemLength} bytes does not fit its P-DATA-TF (${this.pduRemaining + 6} bytes left)`);
    }
    this.pdv = { contextId, isCommand: (flags & 0x01) !== 0, isLast: (flags & 0x02) !== 0, length: itemLength - 2 };
    this.pdvRemaining = itemLength - 2;
    this.handler.pdvStart(this.pdv);
    if (this.pdvRemaining === 0) this.endPdv();
  }

  private endPdv(): void {
    const header = this.pdv as PdvHeader;
    this.pdv = undefined;
    this.handler.pdvEnd(header);
    // a P-DATA-TF whose PDVs leave fewer than 6 bytes cannot hold another PDV
    if (this.pduRemaining > 0 && this.pduRemaining < 6) throw new PduProtocolError(`${this.pduRemaining} stray bytes after the last PDV of a P-DATA-TF`);
    if (this.pduRemaining === 0) this.handler.pdataEnd?.();
  }
}

/** A whole PDU: the body of a control PDU, or the PDVs of a P-DATA-TF (their data as slices of the chunks). */
export type WholePdu = { type: number; body: Buffer; pdvs?: undefined } | { type: typeof PduType.PData; body?: undefined; pdvs: Pdv[] };

/**
 * Whole PDUs, for the side that reads short answers (the SCU, test peers): the same framer and
 * the same checks as the SCP, each PDV's data gathered (a response's command set is small).
 */
export class PduReader {
  private readonly parser: PduParser;
  private readonly ready: WholePdu[] = [];
  private pdvs: Pdv[] = [];
  private parts: Buffer[] = [];

  constructor(maxLength: number) {
    this.parser = new PduParser(
      { maxDataPduLength: maxLength, maxControlPduLength: maxLength },
      {
        control: (type, body) => this.ready.push({ type, body }),
        pdvStart: () => undefined,
        pdvData: (data) => this.parts.push(data),
        pdvEnd: (h) => {
          this.pdvs.push({ contextId: h.contextId, isCommand: h.isCommand, isLast: h.isLast, data: Buffer.concat(this.parts) });
          this.parts = [];
        },
        pdataEnd: () => {
          this.ready.push({ type: PduType.PData, pdvs: this.pdvs });
          this.pdvs = [];
        },
      },
    );
  }

  /** Feeds one chunk; returns the PDUs it completed. Throws PduProtocolError on a stream that is not DICOM UL. */
  push(chunk: Buffer): WholePdu[] {
    this.parser.push(chunk);
    return this.ready.splice(0);
  }
}
