/**
 * Watches the raw byte stream for PDU headers before the DIMSE library buffers them,
 * so that a peer announcing an absurd PDU length or sending something that is not
 * a PDU at all is cut off instead of being buffered without bound.
 */
export interface PduGuardLimits {
  /** Largest P-DATA-TF PDU accepted (bytes after the 6-byte header). */
  maxDataPduLength: number;
  /** Largest association-control PDU accepted. */
  maxControlPduLength: number;
}

const VALID_TYPES = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);

export class PduGuard {
  private remaining = 0; // body bytes of the current PDU still to come
  private header: Buffer = Buffer.alloc(0);
  /** When the PDU now arriving began, if one is incomplete (a trickling peer keeps it so). */
  partialSince: number | undefined;

  constructor(private readonly limits: PduGuardLimits) {}

  /** Returns a reason to abort, or undefined if the bytes are plausible PDUs. */
  inspect(chunk: Buffer, now = Date.now()): string | undefined {
    const problem = this.walk(chunk);
    const partial = this.remaining > 0 || this.header.length > 0;
    if (!partial) this.partialSince = undefined;
    else this.partialSince ??= now;
    return problem;
  }

  private walk(chunk: Buffer): string | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - pos);
        this.remaining -= take;
        pos += take;
        continue;
      }
      const need = 6 - this.header.length;
      const part = chunk.subarray(pos, pos + need);
      this.header = this.header.length ? Buffer.concat([this.header, part]) : part;
      pos += part.length;
      if (this.header.length < 6) break;
      const type = this.header[0];
      const length = this.header.readUInt32BE(2);
      this.header = Buffer.alloc(0);
      if (!VALID_TYPES.has(type)) return `unknown PDU type 0x${type.toString(16).padStart(2, '0')}`;
      const limit = type === 0x04 ? this.limits.maxDataPduLength : this.limits.maxControlPduLength;
      if (length > limit) return `PDU type 0x${type.toString(16).padStart(2, '0')} announces ${length} bytes (limit ${limit})`;
      this.remaining = length;
    }
    return undefined;
  }
}
