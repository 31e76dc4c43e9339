/**
 * Splits the bytes a peer sends into PDUs without copying P-DATA: control PDUs (association,
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
}

const VALID_TYPES = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
const PDATA = 0x04;

export class PduProtocolError extends Error {}

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
  }
}
