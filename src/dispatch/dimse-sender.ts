import type { DimseDestinationConfig } from './destinations/dimse';
import { initCodecs } from '../dicom/codecs';
import { decompressDataset, TRANSCODE_TARGET, whyNotDecompressible } from '../dicom/transcode';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { DatasetSource, InMemoryDataset, readDataset } from '../spool/dataset-edits';
import { DeliveryItem } from './delivery-item';
import { Sender } from './sender';
import { classifyStoreStatus, formatStatus } from '../dicom/status';
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
    const proposals = this.proposalsFor(item);
    if (proposals.length === 0) throw this.noContext(item);
    if (
      this.association &&
      (!this.association.alive || !proposals.every((p) => this.association!.proposed.has(ScuAssociation.contextKey(p.sopClassUid, p.transferSyntaxUid))))
    ) {
      await this.release();
    }
    if (!this.association) {
      this.association = await this.open([item, ...upcoming].flatMap((i) => this.proposalsFor(i)));
      this.log.debug('association opened', { destination: this.dest.name, peer: this.description });
    }
    let contextId = this.association.contextFor(item.sopClassUid, item.transferSyntaxUid);
    let source: DatasetSource | undefined;
    if (contextId === undefined && item.transferSyntaxUid !== TRANSCODE_TARGET) {
      const uncompressed = this.association.contextFor(item.sopClassUid, TRANSCODE_TARGET);
      if (uncompressed !== undefined) {
        source = await this.decompress(item);
        contextId = uncompressed;
      }
    }
    if (contextId === undefined) throw this.noContext(item);
    let result;
    try {
      result = await this.association.store(item, contextId, source);
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
      throw new BodyrouteError('DEST_STATUS_RETRYABLE', `destination answered ${detail}`, true, formatStatus(result.status));
    } else if (kind === 'fatal') {
      throw new BodyrouteError('DEST_STATUS_FATAL', `destination answered ${detail}`, false, formatStatus(result.status));
    }
  }

  private takes(transferSyntaxUid: string): boolean {
    return !this.dest.transferSyntaxes || this.dest.transferSyntaxes.includes(transferSyntaxUid);
  }

  /**
   * The presentation contexts to propose for an object: its own syntax where the destination takes
   * it, and Explicit VR Little Endian where the object is compressed and can be decompressed, so a
   * destination that refuses the compressed syntax still gets the image.
   */
  private proposalsFor(item: DeliveryItem): { sopClassUid: string; transferSyntaxUid: string }[] {
    const out: { sopClassUid: string; transferSyntaxUid: string }[] = [];
    if (this.takes(item.transferSyntaxUid)) out.push({ sopClassUid: item.sopClassUid, transferSyntaxUid: item.transferSyntaxUid });
    if (item.transferSyntaxUid !== TRANSCODE_TARGET && this.takes(TRANSCODE_TARGET) && !whyNotDecompressible(item.transferSyntaxUid)) {
      out.push({ sopClassUid: item.sopClassUid, transferSyntaxUid: TRANSCODE_TARGET });
    }
    return out;
  }

  private noContext(item: DeliveryItem): BodyrouteError {
    const name = findTransferSyntax(item.transferSyntaxUid)?.name ?? item.transferSyntaxUid;
    const why = item.transferSyntaxUid === TRANSCODE_TARGET ? undefined : whyNotDecompressible(item.transferSyntaxUid);
    const listed = this.dest.transferSyntaxes ? ` (transferSyntaxes lists ${this.dest.transferSyntaxes.join(', ')})` : '';
    return new BodyrouteError(
      'DEST_NO_CONTEXT',
      `destination does not accept SOP class ${item.sopClassUid} in ${name}${listed}${why ? `, and the object cannot be decompressed: ${why}` : ''}`,
      false,
    );
  }

  /** The dataset as it leaves bodyroute, its pixel data decompressed; logged, since the bytes now differ from what was received. */
  private async decompress(item: DeliveryItem): Promise<DatasetSource> {
    let original: Buffer;
    try {
      original = await readDataset(item);
    } catch (err) {
      throw new BodyrouteError('DEST_IO', errorMessage(err), true);
    }
    await initCodecs();
    const from = findTransferSyntax(item.transferSyntaxUid)?.name ?? item.transferSyntaxUid;
    let result;
    try {
      result = decompressDataset(original, item.transferSyntaxUid);
    } catch (err) {
      throw new BodyrouteError('TRANSCODE_FAILED', `destination does not accept ${from} and the object cannot be decompressed: ${errorMessage(err)}`, false);
    }
    this.log.info('object decompressed for destination', {
      destination: this.dest.name,
      id: item.id,
      sopInstanceUid: item.sopInstanceUid,
      from: item.transferSyntaxUid,
      to: TRANSCODE_TARGET,
      frames: result.frames,
      bytes: result.dataset.length,
    });
    return new InMemoryDataset(result.dataset);
  }

  /** Any failure to get an association says the destination is unavailable, not that the object is bad. */
  private async open(pairs: { sopClassUid: string; transferSyntaxUid: string }[]): Promise<ScuAssociation> {
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
