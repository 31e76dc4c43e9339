import { connect, isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { CommandSet, decodeCommand, encodeCStoreRq } from '../dicom/ul/command';
import {
  decodeAssociateAc,
  decodeRejectOrAbort,
  encodeAbort,
  encodeAssociateRq,
  encodePData,
  encodePDataPieces,
  PduType,
  ProposedContext,
  RELEASE_RQ,
} from '../dicom/ul/pdu';
import { PduReader, WholePdu } from '../dicom/ul/pdu-parser';
import { BodyrouteError, errorMessage } from '../errors';
import { DatasetReader, DatasetSource, StoredDataset } from '../spool/dataset-edits';
import { AbortReason, AbortSource, ContextResultCode } from '../dicom/ul/constants';

/**
 * A DIMSE association opened by bodyroute to send objects as raw bytes: the dataset is
 * streamed from the spooled file into P-DATA PDUs unchanged, with the object's own
 * transfer syntax and UIDs exactly as received.
 */
export interface ScuOptions {
  host: string;
  port: number;
  /** DICOM TLS: certificate files already read. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
  callingAeTitle: string;
  calledAeTitle: string;
  maxPduLength: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export interface ObjectToSend extends StoredDataset {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

export interface StoreResult {
  status: number;
  errorComment?: string;
}

interface Waiter {
  resolve: (value: WholePdu) => void;
  reject: (err: Error) => void;
}

const CHUNK_CAP = 1024 * 1024;
/** Spool bytes read per step while sending; bounds memory per association. */
const READ_BYTES = 4 * 1024 * 1024;

export class ScuAssociation {
  private readonly reader: PduReader;
  private waiter: Waiter | undefined;
  private queued: WholePdu[] = [];
  private failure: BodyrouteError | undefined;
  private commandParts: Buffer[] = [];
  private messageId = 0;
  private peerMaxPdu = 0;
  private readBuffer: Buffer = Buffer.alloc(0);
  private readonly accepted = new Map<string, number>();
  /** Every pair proposed, accepted or not, so a rejected pair is not renegotiated for each object. */
  readonly proposed = new Set<string>();

  private constructor(
    private readonly socket: Socket,
    private readonly opts: ScuOptions,
  ) {
    this.reader = new PduReader(Math.max(opts.maxPduLength, 1024 * 1024) * 4);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const p of this.reader.push(chunk)) this.deliver(p);
      } catch (err) {
        this.fail(new BodyrouteError('DEST_PROTOCOL', errorMessage(err), true));
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.fail(new BodyrouteError('DEST_UNREACHABLE', `connection error: ${err.message}`, true)));
    socket.on('close', () => this.fail(new BodyrouteError('DEST_PROTOCOL', 'connection closed by peer', true)));
  }

  static contextKey(sopClassUid: string, transferSyntaxUid: string): string {
    return `${sopClassUid}|${transferSyntaxUid}`;
  }

  /** Connects and negotiates one presentation context per (SOP class, transfer syntax) pair. */
  static async open(opts: ScuOptions, pairs: { sopClassUid: string; transferSyntaxUid: string }[]): Promise<ScuAssociation> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const t = opts.tls;
      const s = t
        ? tlsConnect({
            host: opts.host,
            port: opts.port,
            ca: t.ca,
            cert: t.cert,
            key: t.key,
            rejectUnauthorized: t.rejectUnauthorized,
            servername: t.servername ?? (isIP(opts.host) ? undefined : opts.host),
            minVersion: 'TLSv1.2',
          })
        : connect({ host: opts.host, port: opts.port, noDelay: true });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new BodyrouteError('DEST_UNREACHABLE', `connect timeout after ${opts.connectTimeoutMs} ms`, true));
      }, opts.connectTimeoutMs);
      s.once(t ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new BodyrouteError('DEST_UNREACHABLE', `cannot connect: ${err.message}`, true));
      });
    });
    const assoc = new ScuAssociation(socket, opts);
    const contexts: ProposedContext[] = [];
    const seen = assoc.proposed;
    for (const p of pairs) {
      const key = ScuAssociation.contextKey(p.sopClassUid, p.transferSyntaxUid);
      if (seen.has(key) || contexts.length >= 128) continue;
      seen.add(key);
      contexts.push({ id: contexts.length * 2 + 1, abstractSyntaxUid: p.sopClassUid, transferSyntaxUids: [p.transferSyntaxUid] });
    }
    try {
      socket.write(encodeAssociateRq({ callingAeTitle: opts.callingAeTitle, calledAeTitle: opts.calledAeTitle, contexts, maxPduLength: opts.maxPduLength }));
      const answer = await assoc.next(opts.connectTimeoutMs, 'association answer');
      if (answer.type === PduType.AssociateRj) {
        const rj = decodeRejectOrAbort(controlBody(answer));
        throw new BodyrouteError('DEST_REJECTED_ASSOCIATION', `association rejected (result ${rj.result}, source ${rj.source}, reason ${rj.reason})`, true);
      }
      if (answer.type !== PduType.AssociateAc)
        throw new BodyrouteError('DEST_PROTOCOL', `unexpected PDU type ${answer.type} in answer to A-ASSOCIATE-RQ`, true);
      const ac = decodeAssociateAc(controlBody(answer));
      assoc.peerMaxPdu = ac.maxPduLength;
      for (const c of ac.contexts) {
        const proposed = contexts.find((p) => p.id === c.id);
        // each context proposes one syntax; a peer that answers with another has not accepted it
        if (proposed && c.result === ContextResultCode.Acceptance && c.transferSyntaxUid === proposed.transferSyntaxUids[0]) {
          assoc.accepted.set(ScuAssociation.contextKey(proposed.abstractSyntaxUid, proposed.transferSyntaxUids[0]), c.id);
        }
      }
      return assoc;
    } catch (err) {
      assoc.abort();
      throw err;
    }
  }

  get alive(): boolean {
    return !this.failure && !this.socket.destroyed;
  }

  contextFor(sopClassUid: string, transferSyntaxUid: string): number | undefined {
    return this.accepted.get(ScuAssociation.contextKey(sopClassUid, transferSyntaxUid));
  }

  private deliver(p: WholePdu): void {
    if (p.type === PduType.Abort) {
      const a = decodeRejectOrAbort(controlBody(p));
      this.fail(new BodyrouteError('DEST_PROTOCOL', `association aborted by peer (source ${a.source}, reason ${a.reason})`, true));
      this.socket.destroy();
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(p);
    } else {
      this.queued.push(p);
    }
  }

  private fail(err: BodyrouteError): void {
    if (!this.failure) this.failure = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }

  private next(timeoutMs: number, what: string): Promise<WholePdu> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const err = new BodyrouteError('DEST_TIMEOUT', `no ${what} within ${timeoutMs} ms`, true);
        this.fail(err);
        this.abort();
        reject(err);
      }, timeoutMs);
      this.waiter = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private async write(buffers: Buffer[]): Promise<void> {
    if (this.failure) throw this.failure;
    // corked, the buffers leave in one writev; resolved when the socket has taken them (callers reuse buffers)
    let flushed!: Promise<void>;
    this.socket.cork();
    for (let i = 0; i < buffers.length; i++) {
      if (i < buffers.length - 1) this.socket.write(buffers[i]);
      else flushed = new Promise<void>((resolve, reject) => this.socket.write(buffers[i], (err) => (err ? reject(err) : resolve())));
    }
    this.socket.uncork();
    // a peer that stops reading must not hold the sender forever
    const stalled = setTimeout(() => {
      this.fail(new BodyrouteError('DEST_TIMEOUT', `peer took no data for ${this.opts.responseTimeoutMs} ms`, true));
      this.socket.destroy();
    }, this.opts.responseTimeoutMs);
    try {
      await flushed;
    } catch (err) {
      throw this.failure ?? new BodyrouteError('DEST_PROTOCOL', `connection failed while sending: ${errorMessage(err)}`, true);
    } finally {
      clearTimeout(stalled);
    }
  }

  private async readResponse(): Promise<CommandSet> {
    for (;;) {
      const p = await this.next(this.opts.responseTimeoutMs, 'C-STORE/C-ECHO response');
      if (p.pdvs === undefined) throw new BodyrouteError('DEST_PROTOCOL', `unexpected PDU type ${p.type} while waiting for a response`, true);
      for (const pdv of p.pdvs) {
        if (!pdv.isCommand) continue;
        this.commandParts.push(pdv.data);
        if (pdv.isLast) {
          const bytes = Buffer.concat(this.commandParts);
          this.commandParts = [];
          return decodeCommand(bytes);
        }
      }
    }
  }

  private nextMessageId(): number {
    this.messageId = (this.messageId % 0xffff) + 1;
    return this.messageId;
  }

  /** Sends the object from its spooled file, or from `source` (a transcoded copy) when given. */
  async store(obj: ObjectToSend, contextId: number, source?: DatasetSource): Promise<StoreResult> {
    const messageId = this.nextMessageId();
    await this.write(encodePData(contextId, true, true, encodeCStoreRq(messageId, obj.sopClassUid, obj.sopInstanceUid)));
    const max = this.peerMaxPdu === 0 ? CHUNK_CAP : Math.min(this.peerMaxPdu, CHUNK_CAP);
    const pdvBytes = max - 6;
    // reused across objects: write() resolves only once the socket has taken every byte
    if (this.readBuffer.length === 0) this.readBuffer = Buffer.allocUnsafe(READ_BYTES);
    const reader = source ?? (await DatasetReader.open(obj));
    try {
      // large windows of the dataset, each cut into PDUs and written in one go: few syscalls and awaits
      let sent = 0;
      for (;;) {
        const pieces = await reader.next(this.readBuffer);
        if (pieces.length === 0) break;
        const pdus: Buffer[] = [];
        let pdv: Buffer[] = [];
        let pdvLength = 0;
        const flush = () => {
          sent += pdvLength;
          pdus.push(...encodePDataPieces(contextId, false, sent >= reader.length, pdv, pdvLength));
          pdv = [];
          pdvLength = 0;
        };
        for (let piece of pieces) {
          while (piece.length > 0) {
            const take = Math.min(piece.length, pdvBytes - pdvLength);
            pdv.push(piece.subarray(0, take));
            pdvLength += take;
            piece = piece.subarray(take);
            if (pdvLength === pdvBytes) flush();
          }
        }
        if (pdvLength > 0) flush();
        await this.write(pdus);
      }
      if (sent !== reader.length) throw new BodyrouteError('DEST_IO', `spool file ${obj.path} is shorter than recorded`, true);
    } catch (err) {
      throw err instanceof BodyrouteError ? err : new BodyrouteError('DEST_IO', errorMessage(err), true);
    } finally {
      await reader.close();
    }
    const rsp = await this.readResponse();
    if (rsp.messageIdBeingRespondedTo !== undefined && rsp.messageIdBeingRespondedTo !== messageId) {
      throw new BodyrouteError('DEST_PROTOCOL', `response to message ${rsp.messageIdBeingRespondedTo}, expected ${messageId}`, true);
    }
    if (rsp.status === undefined) throw new BodyrouteError('DEST_PROTOCOL', 'C-STORE-RSP without a status', true);
    return { status: rsp.status, errorComment: rsp.errorComment };
  }

  /** Orderly release; falls back to closing the socket if the peer does not answer. */
  async release(timeoutMs = 5000): Promise<void> {
    if (!this.alive) return;
    try {
      await this.write([RELEASE_RQ]);
      const p = await this.next(timeoutMs, 'A-RELEASE-RP');
      if (p.type !== PduType.ReleaseRp) throw new Error(`unexpected PDU type ${p.type} in answer to A-RELEASE-RQ`);
    } catch {
      // the objects are already acknowledged; a sloppy release is only worth a close
    } finally {
      this.socket.end();
      this.socket.destroy();
    }
  }

  abort(): void {
    if (!this.socket.destroyed) {
      this.socket.end(encodeAbort(AbortSource.ServiceUser, AbortReason.NotSpecified));
      setTimeout(() => this.socket.destroy(), 100).unref();
    }
  }
}

/** The body of an association-control PDU (what a P-DATA-TF never has). */
function controlBody(p: WholePdu): Buffer {
  if (p.body === undefined) throw new BodyrouteError('DEST_PROTOCOL', `unexpected P-DATA-TF during association control`, true);
  return p.body;
}
