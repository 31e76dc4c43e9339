import { DimseDestinationConfig } from '../config/schema';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { DeliveryItem, Sender } from './delivery-item';
import { classifyStoreStatus, formatStatus } from './dimse-status';
import { ScuAssociation, ScuOptions } from './scu-association';
import { readFileSync } from 'node:fs';

/** Sends to a DICOM peer over one reused association. */
export class DimseSender implements Sender {
  private association: ScuAssociation | undefined;
  readonly description: string;
  private readonly tls: ScuOptions['tls'];

  constructor(
    private readonly dest: DimseDestinationConfig,
    private readonly callingAeTitle: string,
    private readonly log: Logger,
  ) {
    this.description = `${dest.aeTitle}@${dest.host}:${dest.port}${dest.tls ? ' (TLS)' : ''}`;
    const t = dest.tls;
    // read once at start: a missing certificate file stops start-up rather than every delivery
    this.tls = t && {
      ca: t.ca ? readFileSync(t.ca) : undefined,
      cert: t.cert ? readFileSync(t.cert) : undefined,
      key: t.key ? readFileSync(t.key) : undefined,
      rejectUnauthorized: t.rejectUnauthorized,
      servername: t.servername,
    };
  }

  async send(item: DeliveryItem, upcoming: readonly DeliveryItem[]): Promise<void> {
    const key = ScuAssociation.contextKey(item.sopClassUid, item.transferSyntaxUid);
    if (this.association && (!this.association.alive || !this.association.proposed.has(key))) {
      await this.release();
    }
    if (!this.association) {
      this.association = await this.open([item, ...upcoming]);
      this.log.debug('association opened', { destination: this.dest.name, peer: this.description });
    }
    const contextId = this.association.contextFor(item.sopClassUid, item.transferSyntaxUid);
    if (contextId === undefined) {
      throw new BodyrouteError(
        'DEST_NO_CONTEXT',
        `destination does not accept SOP class ${item.sopClassUid} in transfer syntax ${item.transferSyntaxUid}`,
        false,
      );
    }
    let result;
    try {
      result = await this.association.store(item, contextId);
    } catch (err) {
      this.association.abort();
      this.association = undefined;
      throw err;
    }
    const kind = classifyStoreStatus(result.status);
    const detail = `${formatStatus(result.status)}${result.errorComment ? ` (${result.errorComment})` : ''}`;
    if (kind === 'warning') {
      this.log.warn('destination stored with warning', { destination: this.dest.name, id: item.id, sopInstanceUid: item.sopInstanceUid, status: detail });
    } else if (kind === 'retry') {
      throw new BodyrouteError('DEST_STATUS_RETRYABLE', `destination answered ${detail}`, true, result.status);
    } else if (kind === 'fatal') {
      throw new BodyrouteError('DEST_STATUS_FATAL', `destination answered ${detail}`, false, result.status);
    }
  }

  /** Any failure to get an association says the destination is unavailable, not that the object is bad. */
  private async open(pairs: DeliveryItem[]): Promise<ScuAssociation> {
    try {
      return await ScuAssociation.open(
        {
          host: this.dest.host,
          port: this.dest.port,
          callingAeTitle: this.dest.callingAeTitle ?? this.callingAeTitle,
          calledAeTitle: this.dest.aeTitle,
          maxPduLength: this.dest.maxPduLength,
          connectTimeoutMs: this.dest.connectTimeoutMs,
          responseTimeoutMs: this.dest.responseTimeoutMs,
          tls: this.tls,
        },
        pairs,
      );
    } catch (err) {
      if (err instanceof BodyrouteError && err.code === 'DEST_REJECTED_ASSOCIATION') throw err;
      throw new BodyrouteError('DEST_UNREACHABLE', errorMessage(err), true);
    }
  }

  private async release(): Promise<void> {
    const a = this.association;
    this.association = undefined;
    if (a) await a.release();
  }

  idle(): Promise<void> {
    return this.release();
  }

  close(): Promise<void> {
    return this.release();
  }
}
