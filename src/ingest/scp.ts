import type { Socket } from 'node:net';
import { association as dimseAssociation, Dataset, Scp, requests, responses, constants } from 'dcmjs-dimse';
import { isSafeUid, trimUidPadding } from '../dicom/uids';
import { BodyrouteError, errorMessage } from '../errors';
import { formatStatus } from '../dispatch/dimse-status';
import { Logger } from '../observability/logger';
import { Spool } from '../spool/spool';
import { ReceiveContext, SpooledObject } from '../spool/spooled-object';
import { SpoolWriter, StoreStatus } from '../spool/spool-writer';
import { checkAssociation, decideContext, PolicyOptions } from './association-policy';
import { PeerFilter } from './peer-filter';

export const A_ABORT = Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x06]);

type Association = InstanceType<typeof dimseAssociation.Association>;
type PresentationContext = InstanceType<typeof dimseAssociation.PresentationContext>;
type CStoreRequest = InstanceType<typeof requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof requests.CEchoRequest>;
type CStoreResponse = InstanceType<typeof responses.CStoreResponse>;
type CEchoResponse = InstanceType<typeof responses.CEchoResponse>;

export interface IngestContext {
  policy: PolicyOptions;
  peers: PeerFilter;
  spool: Spool;
  log: Logger;
  timeouts: { associationMs: number; pduMs: number; objectMs: number };
  /** Counts accepted associations across all connections. */
  associations: { active: number };
  /** Called once the object is durable, before the success response goes out. */
  onStored(obj: SpooledObject): void;
}

interface PendingStore {
  id: string;
  writer: SpoolWriter;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  headerBytes: number;
  origin: ReceiveContext;
}

/**
 * One connection's DIMSE service: C-ECHO, and C-STORE streamed into the spool.
 * A C-STORE success goes out only after the object is fsync'd and renamed into the inbox.
 */
export class IngestScp extends Scp {
  private readonly startedAt = Date.now();
  private readonly remote: string;
  private callingAe = '';
  private calledAe = '';
  private accepted = false;
  private stored = 0;
  private failed = 0;
  private bytes = 0;
  private readonly pending = new Map<CStoreRequest, PendingStore>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private associationTimer: NodeJS.Timeout | undefined;
  private objectTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly sock: Socket,
    private readonly ctx: IngestContext,
  ) {
    super(sock, { connectTimeout: ctx.timeouts.pduMs, associationTimeout: ctx.timeouts.associationMs, pduTimeout: ctx.timeouts.pduMs });
    this.remote = `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`;
    sock.setNoDelay(true);
    // ARTIM: a connection that never asks for an association is dropped.
    this.associationTimer = setTimeout(() => {
      if (!this.accepted) this.drop(`no association request within ${ctx.timeouts.associationMs} ms`);
    }, ctx.timeouts.associationMs);
    this.associationTimer.unref();
    this.on('networkError', (err: Error) => this.drop(err.message));
    this.on('close', () => this.closed());
  }

  /** Ends the connection after a protocol error with an A-ABORT; the 'close' handler does the bookkeeping. */
  drop(reason: string): void {
    if (this.ended || this.sock.destroyed) return;
    this.ctx.log.warn('connection dropped', { peer: this.remote, callingAe: this.callingAe, reason });
    // A-ABORT, source: service provider, reason: invalid PDU parameter value
    this.sock.end(A_ABORT);
    setTimeout(() => this.sock.destroy(), 200).unref();
  }

  override associationRequested(association: Association): void {
    if (this.associationTimer) clearTimeout(this.associationTimer);
    this.callingAe = association.getCallingAeTitle().trim();
    this.calledAe = association.getCalledAeTitle().trim();
    const rejection = checkAssociation(this.ctx.policy, this.calledAe, this.callingAe, this.ctx.associations.active, this.ctx.peers.allows(this.sock.remoteAddress));
    if (rejection) {
      this.ctx.log.warn('association rejected', { peer: this.remote, callingAe: this.callingAe, calledAe: this.calledAe, reason: rejection.why });
      this.sendAssociationReject(rejection.result, rejection.source, rejection.reason);
      setTimeout(() => this.sock.end(), 100).unref();
      return;
    }
    let acceptedContexts = 0;
    for (const { context } of association.getPresentationContexts()) {
      const decision = decideContext(this.ctx.policy, context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
      if (decision.accept) {
        context.setResult(constants.PresentationContextResult.Accept, decision.transferSyntaxUid);
        acceptedContexts++;
      } else {
        context.setResult(decision.result);
        this.ctx.log.debug('presentation context rejected', { peer: this.remote, callingAe: this.callingAe, reason: decision.why });
      }
    }
    this.accepted = true;
    this.ctx.associations.active++;
    this.ctx.log.debug('association accepted', { peer: this.remote, callingAe: this.callingAe, calledAe: this.calledAe, contexts: acceptedContexts });
    this.sendAssociationAccept();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(constants.Status.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): SpoolWriter {
    const id = this.ctx.spool.newId();
    const sopClassUid = trimUidPadding(request.getAffectedSopClassUid() ?? '');
    const sopInstanceUid = trimUidPadding(request.getAffectedSopInstanceUid() ?? '');
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? '';
    const origin = { callingAeTitle: this.callingAe, calledAeTitle: this.calledAe, remoteAddress: this.sock.remoteAddress ?? '', receivedAt: new Date().toISOString() };
    const refusal =
      isSafeUid(sopClassUid) && isSafeUid(sopInstanceUid)
        ? undefined
        : new BodyrouteError('UID_INVALID', `invalid UID in C-STORE-RQ (class ${JSON.stringify(sopClassUid.slice(0, 80))}, instance ${JSON.stringify(sopInstanceUid.slice(0, 80))})`, false, StoreStatus.CannotUnderstand);
    const writer = this.ctx.spool.beginReceive(id, sopClassUid, sopInstanceUid, transferSyntaxUid, origin, refusal);
    writer.onPressure((paused) => (paused ? this.sock.pause() : this.sock.resume()));
    this.objectTimer = setTimeout(() => this.drop(`object not received within listen.objectTimeoutMs (${this.ctx.timeouts.objectMs} ms)`), this.ctx.timeouts.objectMs);
    this.objectTimer.unref();
    this.pending.set(request, { id, writer, sopClassUid, sopInstanceUid, transferSyntaxUid, headerBytes: writer.headerBytes, origin });
    return writer;
  }

  override createDatasetFromStoreWritableStream(_writable: unknown, context: PresentationContext, callback: (dataset: Dataset) => void): void {
    // The bytes are in the spool; the DIMSE layer only needs a placeholder.
    callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    if (this.objectTimer) clearTimeout(this.objectTimer);
    const work = this.store(request).then(({ status, stored }) => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      if (!this.ended) callback(response);
      // the object is durable already; the pipeline starts after the answer is on its way
      if (stored) this.ctx.onStored(stored);
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async store(request: CStoreRequest): Promise<{ status: number; stored?: SpooledObject }> {
    const p = this.pending.get(request);
    this.pending.delete(request);
    if (!p) {
      this.failed++;
      this.ctx.log.error('C-STORE without a dataset stream', { peer: this.remote, callingAe: this.callingAe });
      return { status: StoreStatus.OutOfResources };
    }
    try {
      const written = await p.writer.finish();
      const obj = await this.ctx.spool.commit(p.id, written, {
        sopClassUid: p.sopClassUid,
        sopInstanceUid: p.sopInstanceUid,
        transferSyntaxUid: p.transferSyntaxUid,
        origin: p.origin,
        headerBytes: p.headerBytes,
      });
      this.stored++;
      this.bytes += written.datasetBytes;
      return { status: StoreStatus.Success, stored: obj };
    } catch (err) {
      this.failed++;
      const status = err instanceof BodyrouteError && err.dimseStatus !== undefined ? err.dimseStatus : StoreStatus.OutOfResources;
      this.ctx.log.error('C-STORE failed', {
        peer: this.remote,
        callingAe: this.callingAe,
        sopInstanceUid: isSafeUid(p.sopInstanceUid) ? p.sopInstanceUid : '(invalid)',
        status: formatStatus(status),
        code: err instanceof BodyrouteError ? err.code : 'INTERNAL',
        reason: errorMessage(err),
      });
      return { status };
    }
  }

  override associationReleaseRequested(): void {
    if (!this.accepted) {
      this.drop('A-RELEASE-RQ outside an association');
      return;
    }
    // Answer the release only after every store of this association has been answered.
    void Promise.allSettled([...this.inFlight]).then(() => {
      if (!this.ended) this.sendAssociationReleaseResponse();
    });
  }

  override abort(source: number, reason: number): void {
    this.ctx.log.warn('association aborted by peer', { peer: this.remote, callingAe: this.callingAe, source, reason });
    this.sock.destroy();
  }

  private closed(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.associationTimer) clearTimeout(this.associationTimer);
    if (this.objectTimer) clearTimeout(this.objectTimer);
    if (this.accepted) this.ctx.associations.active--;
    // Objects cut off mid-transfer were never acknowledged: their partial files go.
    for (const p of this.pending.values()) void p.writer.discard();
    const partial = this.pending.size;
    this.pending.clear();
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
