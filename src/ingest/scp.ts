import type { Socket } from 'node:net';
import { CommandField, CommandSet, decodeCommand, encodeCEchoRsp, encodeCStoreRsp } from '../dicom/ul/command';
import { decodeAssociateRq, encodeAbort, encodeAssociateAc, encodeAssociateRj, encodePData, PduType, RELEASE_RP, ContextResult } from '../dicom/ul/pdu';
import { isSafeUid } from '../dicom/uids';
import { BodyrouteError, errorMessage } from '../errors';
import { DimseStatus, formatStatus } from '../dicom/status';
import { storeFailureStatus } from './store-status';
import { Telemetry } from '../observability/telemetry';
import { Clock, IdleTimer } from '../clock';
import { Logger } from '../observability/logger';
import { Spool } from '../spool/spool';
import { ReceiveContext, SpooledObject } from '../spool/spooled-object';
import { SpoolWriter } from '../spool/spool-writer';
import { checkAssociation, decideContext, PolicyOptions, Rejection } from './association-policy';
import { PduHandler, PduProtocolError, PdvHeader } from '../dicom/ul/pdu-parser';
import { PeerFilter } from './peer-filter';
import { AbortReason, AbortSource, ContextResultCode, RejectReason, RejectSource } from '../dicom/ul/constants';

/** A-ABORT, source: service provider, reason: invalid PDU parameter value. */
const A_ABORT = encodeAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);

/** Command sets are small; anything larger is not a DIMSE command. */
const MAX_COMMAND_BYTES = 64 * 1024;

export interface IngestContext {
  policy: PolicyOptions;
  peers: PeerFilter;
  spool: Spool;
  log: Logger;
  /** The maximum PDU length announced to peers. */
  maxPduLength: number;
  timeouts: { associationMs: number; pduMs: number; objectMs: number };
  /** Counts accepted associations across all connections. */
  associations: { active: number };
  /** Called once the object is durable, before the success response goes out. */
  onStored(obj: SpooledObject): void;
  telemetry: Telemetry;
  /** Time for the ARTIM, PDU and object timers (tests drive it). */
  clock: Clock;
}

interface IncomingStore {
  id: string;
  contextId: number;
  messageId: number;
  writer: SpoolWriter;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  origin: ReceiveContext;
  /** When its C-STORE-RQ arrived (ms, performance.now). */
  startedAt: number;
}

/**
 * One connection's DICOM upper layer and DIMSE service: association negotiation, C-ECHO, and
 * C-STORE with the dataset's PDVs streamed straight into the spool. A C-STORE success goes
 * out only after the object is fsync'd and renamed into the inbox.
 *
 * bodyroute speaks the upper layer itself (like its sender) rather than through dcmjs-dimse's
 * Scp: that one costs about 4 ms of CPU per 512 KB object on a 2-core machine, which alone
 * would cap ingest near 200 images/s (docs/performance.md).
 */
export class IngestScp implements PduHandler {
  private readonly startedAt = Date.now();
  private readonly remote: string;
  private callingAe = '';
  private calledAe = '';
  private state: 'awaiting-association' | 'associated' | 'releasing' | 'closed' = 'awaiting-association';
  private accepted = false;
  /** Accepted presentation contexts: id → abstract syntax and transfer syntax. */
  private readonly contexts = new Map<number, { abstractSyntaxUid: string; transferSyntaxUid: string }>();
  private stored = 0;
  private failed = 0;
  private bytes = 0;
  private command: Buffer[] = [];
  private commandBytes = 0;
  private incoming: IncomingStore | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private cancelAssociationTimer: (() => void) | undefined;
  private cancelObjectTimer: (() => void) | undefined;
  private idleTimer: IdleTimer | undefined;
  /** bodyroute is stopping: the object being received is finished and answered, then the association is aborted. */
  private stopping = false;

  constructor(
    private readonly sock: Socket,
    private readonly ctx: IngestContext,
  ) {
    this.remote = `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`;
    // ARTIM: a connection that never asks for an association is dropped.
    this.cancelAssociationTimer = ctx.clock.setTimer(ctx.timeouts.associationMs, () => {
      if (this.state === 'awaiting-association') this.drop(`no association request within ${ctx.timeouts.associationMs} ms`);
    });
    sock.on('close', () => this.closed());
  }

  /** Ends the connection after a protocol error with an A-ABORT; the 'close' handler does the bookkeeping. */
  drop(reason: string): void {
    if (this.state === 'closed' || this.sock.destroyed) return;
    this.ctx.log.warn('connection dropped', { peer: this.remote, callingAe: this.callingAe, reason });
    this.sendAbort();
  }

  /** A-ABORT, then the socket is closed shortly after even if the peer does not close its side. */
  private sendAbort(): void {
    this.sock.end(A_ABORT);
    this.ctx.clock.setTimer(200, () => this.sock.destroy());
  }

  /**
   * Shutdown: an association between objects is aborted at once; one in the middle of an
   * object gets that object finished and answered first, so every success the peer saw is on
   * disk and every object it did not see answered was not stored (it sees the abort).
   */
  shutdown(): void {
    if (this.state === 'closed' || this.sock.destroyed) return;
    this.stopping = true;
    if (!this.incoming && this.inFlight.size === 0) this.abortForShutdown();
  }

  private abortForShutdown(): void {
    if (this.state === 'closed' || this.sock.destroyed) return;
    this.ctx.log.info('association aborted: bodyroute is stopping', { peer: this.remote, callingAe: this.callingAe, objects: this.stored });
    this.sendAbort();
  }

  /** Any bytes from the peer restart the idle timer (listen.pduTimeoutMs). */
  activity(): void {
    if (this.state !== 'associated') return;
    this.idleTimer?.touch();
  }

  control(type: number, body: Buffer): void {
    switch (type) {
      case PduType.AssociateRq:
        if (this.state !== 'awaiting-association') return this.drop('A-ASSOCIATE-RQ on an established association');
        return this.associationRequested(body);
      case PduType.ReleaseRq:
        if (this.state !== 'associated') return this.drop('A-RELEASE-RQ outside an association');
        return this.releaseRequested();
      case PduType.Abort:
        this.ctx.log.warn('association aborted by peer', { peer: this.remote, callingAe: this.callingAe, source: body[2], reason: body[3] });
        this.sock.destroy();
        return;
      default:
        return this.drop(`unexpected PDU type 0x${type.toString(16).padStart(2, '0')} from an SCU`);
    }
  }

  private associationRequested(body: Buffer): void {
    this.cancelAssociationTimer?.();
    let rq;
    try {
      rq = decodeAssociateRq(body);
    } catch (err) {
      return this.drop(`malformed A-ASSOCIATE-RQ: ${errorMessage(err)}`);
    }
    this.callingAe = rq.callingAeTitle;
    this.calledAe = rq.calledAeTitle;
    const rejection = checkAssociation(
      this.ctx.policy,
      this.calledAe,
      this.callingAe,
      this.ctx.associations.active,
      this.ctx.peers.allows(this.sock.remoteAddress),
    );
    if (rejection) {
      this.ctx.log.warn('association rejected', { peer: this.remote, callingAe: this.callingAe, calledAe: this.calledAe, reason: rejection.why });
      this.ctx.telemetry.associationRejected(rejectionKind(rejection));
      this.state = 'releasing';
      this.sock.end(encodeAssociateRj(rejection.result, rejection.source, rejection.reason));
      this.ctx.clock.setTimer(1000, () => this.sock.destroy());
      return;
    }
    const results: ContextResult[] = [];
    for (const c of rq.contexts) {
      const decision = decideContext(this.ctx.policy, c.abstractSyntaxUid, c.transferSyntaxUids);
      if (decision.accept) {
        this.contexts.set(c.id, { abstractSyntaxUid: c.abstractSyntaxUid, transferSyntaxUid: decision.transferSyntaxUid });
        results.push({ id: c.id, result: ContextResultCode.Acceptance, transferSyntaxUid: decision.transferSyntaxUid });
      } else {
        results.push({ id: c.id, result: decision.result, transferSyntaxUid: c.transferSyntaxUids[0] ?? '' });
        this.ctx.log.debug('presentation context rejected', { peer: this.remote, callingAe: this.callingAe, reason: decision.why });
      }
    }
    this.state = 'associated';
    this.accepted = true;
    this.ctx.associations.active++;
    this.ctx.telemetry.associationAccepted();
    this.idleTimer = new IdleTimer(this.ctx.clock, this.ctx.timeouts.pduMs, () =>
      this.drop(`no PDU within listen.pduTimeoutMs (${this.ctx.timeouts.pduMs} ms)`),
    );
    this.ctx.log.debug('association accepted', { peer: this.remote, callingAe: this.callingAe, calledAe: this.calledAe, contexts: this.contexts.size });
    this.sock.write(encodeAssociateAc(rq, results, this.ctx.maxPduLength));
  }

  pdvStart(pdv: PdvHeader): void {
    if (this.state !== 'associated') throw new PduProtocolError('P-DATA-TF outside an association');
    if (!this.contexts.has(pdv.contextId)) throw new PduProtocolError(`PDV for presentation context ${pdv.contextId}, which was not accepted`);
    if (pdv.isCommand) {
      if (this.incoming) throw new PduProtocolError('command PDV in the middle of a C-STORE dataset');
    } else if (!this.incoming || this.incoming.contextId !== pdv.contextId) {
      throw new PduProtocolError(`dataset PDV (context ${pdv.contextId}) without a C-STORE-RQ for it`);
    }
  }

  pdvData(data: Buffer): void {
    if (this.incoming) {
      this.incoming.writer.write(data);
      return;
    }
    this.commandBytes += data.length;
    if (this.commandBytes > MAX_COMMAND_BYTES) throw new PduProtocolError(`command set larger than ${MAX_COMMAND_BYTES} bytes`);
    this.command.push(data);
  }

  pdvEnd(pdv: PdvHeader): void {
    if (!pdv.isLast) return;
    if (!pdv.isCommand) {
      const store = this.incoming as IncomingStore;
      this.incoming = undefined;
      this.cancelObjectTimer?.();
      this.track(this.finishStore(store));
      return;
    }
    const bytes = Buffer.concat(this.command);
    this.command = [];
    this.commandBytes = 0;
    let cmd: CommandSet;
    try {
      cmd = decodeCommand(bytes);
    } catch (err) {
      throw new PduProtocolError(`malformed command set: ${errorMessage(err)}`);
    }
    if (this.stopping) return this.abortForShutdown(); // no new object is begun while stopping
    if (cmd.commandField === CommandField.CEchoRq) {
      this.respond(pdv.contextId, encodeCEchoRsp(cmd.messageId ?? 0, DimseStatus.Success));
    } else if (cmd.commandField === CommandField.CStoreRq && cmd.hasDataset) {
      this.beginStore(pdv.contextId, cmd);
    } else {
      throw new PduProtocolError(
        `unsupported DIMSE command 0x${(cmd.commandField ?? 0).toString(16).padStart(4, '0')}${cmd.commandField === CommandField.CStoreRq ? ' without a dataset' : ''}`,
      );
    }
  }

  private beginStore(contextId: number, cmd: CommandSet): void {
    const context = this.contexts.get(contextId) as { abstractSyntaxUid: string; transferSyntaxUid: string };
    const id = this.ctx.spool.newId();
    const sopClassUid = cmd.affectedSopClassUid ?? '';
    const sopInstanceUid = cmd.affectedSopInstanceUid ?? '';
    const origin = {
      callingAeTitle: this.callingAe,
      calledAeTitle: this.calledAe,
      remoteAddress: this.sock.remoteAddress ?? '',
      receivedAt: new Date().toISOString(),
    };
    const refusal =
      isSafeUid(sopClassUid) && isSafeUid(sopInstanceUid)
        ? undefined
        : new BodyrouteError(
            'UID_INVALID',
            `invalid UID in C-STORE-RQ (class ${JSON.stringify(sopClassUid.slice(0, 80))}, instance ${JSON.stringify(sopInstanceUid.slice(0, 80))})`,
            false,
          );
    const writer = this.ctx.spool.beginReceive(id, sopClassUid, sopInstanceUid, context.transferSyntaxUid, origin, refusal);
    writer.onPressure((paused) => (paused ? this.sock.pause() : this.sock.resume()));
    this.cancelObjectTimer = this.ctx.clock.setTimer(this.ctx.timeouts.objectMs, () =>
      this.drop(`object not received within listen.objectTimeoutMs (${this.ctx.timeouts.objectMs} ms)`),
    );
    this.incoming = {
      id,
      contextId,
      messageId: cmd.messageId ?? 0,
      writer,
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: context.transferSyntaxUid,
      origin,
      startedAt: performance.now(),
    };
  }

  private async finishStore(p: IncomingStore): Promise<void> {
    let status: number = DimseStatus.Success;
    let stored: SpooledObject | undefined;
    try {
      const written = await p.writer.finish();
      stored = await this.ctx.spool.commit(p.id, written, {
        sopClassUid: p.sopClassUid,
        sopInstanceUid: p.sopInstanceUid,
        transferSyntaxUid: p.transferSyntaxUid,
        origin: p.origin,
        headerBytes: p.writer.headerBytes,
      });
      this.stored++;
      this.bytes += written.datasetBytes;
    } catch (err) {
      this.failed++;
      status = storeFailureStatus(err);
      this.ctx.log.error('C-STORE failed', {
        peer: this.remote,
        callingAe: this.callingAe,
        sopInstanceUid: isSafeUid(p.sopInstanceUid) ? p.sopInstanceUid : '(invalid)',
        status: formatStatus(status),
        code: err instanceof BodyrouteError ? err.code : 'INTERNAL',
        reason: errorMessage(err),
      });
    }
    this.respond(p.contextId, encodeCStoreRsp(p.messageId, p.sopClassUid, p.sopInstanceUid, status));
    if (stored) {
      this.ctx.telemetry.objectStored({
        callingAeTitle: this.callingAe.trim(),
        bytes: stored.sizeBytes - stored.datasetOffset,
        ackSeconds: (performance.now() - p.startedAt) / 1000,
      });
    } else {
      this.ctx.telemetry.storeFailed({ status: formatStatus(status) });
    }
    // the object is durable already; the pipeline starts after the answer is on its way
    if (stored) this.ctx.onStored(stored);
  }

  private respond(contextId: number, command: Buffer): void {
    if (this.state === 'closed' || this.sock.destroyed) return;
    // the peer's turn starts now: a slow commit on our side is not the peer going silent
    this.idleTimer?.touch();
    this.sock.cork();
    for (const b of encodePData(contextId, true, true, command)) this.sock.write(b);
    this.sock.uncork();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      if (this.stopping && !this.incoming && this.inFlight.size === 0) this.abortForShutdown();
    });
  }

  private releaseRequested(): void {
    this.state = 'releasing';
    // Answer the release only after every store of this association has been answered.
    void Promise.allSettled([...this.inFlight]).then(() => {
      if (!this.sock.destroyed) this.sock.end(RELEASE_RP);
    });
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelAssociationTimer?.();
    this.cancelObjectTimer?.();
    this.idleTimer?.stop();
    if (this.accepted) {
      this.ctx.associations.active--;
      this.ctx.telemetry.associationClosed();
    }
    // an object cut off mid-transfer was never acknowledged: its partial file goes
    const partial = this.incoming ? 1 : 0;
    if (this.incoming) void this.incoming.writer.discard();
    this.incoming = undefined;
    if (this.accepted) {
      this.ctx.log.info('association closed', {
        peer: this.remote,
        callingAe: this.callingAe,
        calledAe: this.calledAe,
        objects: this.stored,
        failed: this.failed,
        partial,
        bytes: this.bytes,
        ms: Date.now() - this.startedAt,
      });
    }
  }
}

/** The metrics label of a rejection: a few fixed words, never the titles or addresses themselves. */
function rejectionKind(r: Rejection): string {
  if (r.source === RejectSource.ServiceProviderPresentation) return 'association-limit';
  if (r.reason === RejectReason.CalledAeTitleNotRecognized) return 'called-ae-title';
  if (r.reason === RejectReason.CallingAeTitleNotRecognized) return 'calling-ae-title';
  return 'peer-address';
}
