import { promises as fsp } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Writable } from 'node:stream';
import { MalformedError } from '../dicom/element-reader';
import { DatasetSummary, headerOf, summarizeDataset } from '../dicom/header';
import { Tags } from '../dicom/tags';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { BodyrouteError, errorMessage } from '../errors';
import { writeAll } from '../fs/write-all';
import { ReadySlot } from './slot-files';
import { encodeSlotRecord, SLOT_RECORD_BYTES } from './slot-record';

/** Written bytes after which an fdatasync starts while the object still arrives (SpoolWriter.flushEarly). */
export const FLUSH_EARLY_BYTES = 1024 * 1024;

export interface SpoolWriterOptions {
  tmpPath: string;
  /** A spare file (SpareFiles) to rename to tmpPath and write over instead of creating tmpPath; tmpPath is created if that fails. */
  spare?: string;
  /**
   * A slot file (SlotFiles) to receive into instead: the object is acknowledged in it after one fdatasync,
   * with the slot record naming `id` written into its preamble last. tmpPath and spare are then unused.
   */
  slot?: { ready: ReadySlot; id: string };
  header: Buffer;
  transferSyntaxUid: string;
  maxObjectBytes: number;
  /** Bytes kept in memory from the dataset's start, to read its header without reading the file back. */
  captureBytes: number;
  /** Bytes buffered in memory before the source is asked to pause. */
  pauseAboveBytes: number;
  /** Top-level attributes to read at receive time. */
  summaryTags: readonly number[];
  /** When set, the writer refuses the object from the start (e.g. spool full) and discards its bytes. */
  refusal?: BodyrouteError;
}

export interface WrittenObject {
  /** The file written: the temporary file, or the slot file. */
  path: string;
  /** Received into a slot file: durable under its name already, nothing to rename. */
  inSlot: boolean;
  datasetBytes: number;
  summary: DatasetSummary;
  /** The dataset's top-level elements before Pixel Data (a copy), where the summary found their end. */
  header?: Buffer;
  /** The file handle is closed in the background; wait on this before giving up on the file. */
  closed: Promise<void>;
}

/**
 * Streams one C-STORE dataset into a temporary Part-10 file as the PDVs arrive.
 * It never emits 'error' (the DIMSE layer would tear the association down); a failure is
 * remembered, later bytes are discarded, and finish() reports it so the SCP can answer
 * a failure status and the association goes on.
 */
export class SpoolWriter extends Writable {
  private handle: fsp.FileHandle | undefined;
  /** Written over a spare file: what lies beyond the new object's end is cut off before the fdatasync. */
  private overwriting = false;
  private failure: BodyrouteError | undefined;
  private datasetBytes = 0;
  private readonly captured: Buffer[] = [];
  private capturedBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private readonly done: Promise<void>;
  private pressureListener: ((paused: boolean) => void) | undefined;
  private paused = false;
  /** Where the object is written: the slot file, or the temporary file. */
  private readonly path: string;
  /** CRC-32 of the bytes after the preamble, for the slot record (slot files only). */
  private bodyCrc = 0;

  constructor(private readonly opts: SpoolWriterOptions) {
    super({ highWaterMark: opts.pauseAboveBytes });
    this.failure = opts.refusal;
    this.path = opts.slot?.ready.path ?? opts.tmpPath;
    this.done = new Promise((resolve) => this.once('finish', resolve).once('close', resolve));
  }

  get headerBytes(): number {
    return this.opts.header.length;
  }

  /**
   * Tells the caller to pause its source while the disk is behind. write() itself always
   * returns true: the DIMSE library must never wait on us, or PDVs could be reordered.
   */
  onPressure(listener: (paused: boolean) => void): void {
    this.pressureListener = listener;
  }

  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error: Error | null | undefined) => void),
    cb?: (error: Error | null | undefined) => void,
  ): boolean {
    // observed as it arrives, so the header check does not wait for the disk
    if (Buffer.isBuffer(chunk)) this.observe(chunk);
    const ok = typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding as BufferEncoding, cb);
    if (!ok && !this.paused && this.pressureListener) {
      this.paused = true;
      this.pressureListener(true);
      this.once('drain', () => {
        this.paused = false;
        this.pressureListener?.(false);
      });
    }
    return true;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const slot = this.opts.slot?.ready;
    if (slot) {
      // owned from here on, refused or not: discard() closes and deletes it
      this.handle = slot.handle;
      this.overwriting = slot.overwriting;
      return callback();
    }
    if (this.failure) return callback();
    this.open()
      .then((h) => {
        this.handle = h;
      })
      .catch((err) => this.fail(new BodyrouteError('SPOOL_IO', `cannot create spool file: ${errorMessage(err)}`, true)))
      .finally(() => callback());
  }

  /** The spare under the temporary name, so that a receive in progress is always in tmp/; else a new file. */
  private async open(): Promise<fsp.FileHandle> {
    const { spare, tmpPath } = this.opts;
    if (spare) {
      try {
        await fsp.rename(spare, tmpPath);
        const handle = await fsp.open(tmpPath, 'r+');
        this.overwriting = true;
        return handle;
      } catch {
        await Promise.all([fsp.unlink(spare).catch(() => undefined), fsp.unlink(tmpPath).catch(() => undefined)]);
      }
    }
    return fsp.open(tmpPath, 'wx', 0o600);
  }

  /** The file meta header goes out with the first dataset bytes: one write fewer before the acknowledgement. */
  private headerWritten = false;

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    if (this.failure || !this.handle) return callback();
    if (!this.headerWritten) {
      buffers.unshift(this.opts.header);
      this.headerWritten = true;
    }
    if (this.opts.slot) {
      for (const b of buffers) this.bodyCrc = crc32(b === this.opts.header ? b.subarray(SLOT_RECORD_BYTES) : b, this.bodyCrc);
    }
    const handle = this.handle;
    writeAll(handle, buffers)
      .then(() => this.flushEarly(handle, buffers))
      .catch((err) => this.fail(new BodyrouteError('SPOOL_IO', `spool write failed: ${errorMessage(err)}`, true)))
      .finally(() => callback());
  }

  /** Bytes written since the last early flush began. */
  private unflushed = 0;
  /** An fdatasync started while the object still arrives; finish() waits for it before its own. */
  private earlyFlush: Promise<void> | undefined;

  /**
   * Starts an fdatasync of what is written so far, in the background, once FLUSH_EARLY_BYTES have come
   * since the last one began: the disk writes the object while the rest of it still crosses the network, so
   * the fdatasync before the acknowledgement has only the tail left (fdatasync here costs about 0.13 ms +
   * 1.1 ms per MB; docs/performance.md, "Flushing while receiving"). A failure fails the object: after a
   * failed fsync the kernel may report the error to one caller only, so the last fdatasync could not be trusted.
   */
  private flushEarly(handle: fsp.FileHandle, written: Buffer[]): void {
    for (const b of written) this.unflushed += b.length;
    if (this.earlyFlush || this.unflushed < FLUSH_EARLY_BYTES) return;
    this.unflushed = 0;
    this.earlyFlush = handle
      .datasync()
      .catch((err) => this.fail(new BodyrouteError('SPOOL_IO', `spool flush failed: ${errorMessage(err)}`, true)))
      .finally(() => (this.earlyFlush = undefined));
  }

  private observe(chunk: Buffer): void {
    this.datasetBytes += chunk.length;
    if (this.datasetBytes > this.opts.maxObjectBytes && !this.failure) {
      this.fail(new BodyrouteError('OBJECT_TOO_LARGE', `object exceeds listen.maxObjectBytes (${this.opts.maxObjectBytes})`, false));
    }
    if (this.capturedBytes < this.opts.captureBytes) {
      this.captured.push(chunk);
      this.capturedBytes += chunk.length;
    }
    this.tail = chunk.length >= 8 ? chunk.subarray(chunk.length - 8) : Buffer.concat([this.tail, chunk]).subarray(-8);
  }

  /**
   * Lets the source go on once this object's bytes are all written. Needed because a writable stream emits no
   * 'drain' after end(): when the object's last bytes were the ones that filled the buffer, the source paused
   * for them would otherwise stay paused for good, the association waiting for nothing until its timeout.
   */
  private releasePressure(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pressureListener?.(false);
  }

  private fail(err: BodyrouteError): void {
    if (!this.failure) this.failure = err;
  }

  /**
   * Waits for the last bytes, makes the file durable and checks that it holds a whole
   * dataset. Resolves with the file written (the caller renames a temporary file into place);
   * rejects with a BodyrouteError carrying the status to answer, after removing the file.
   */
  async finish(): Promise<WrittenObject> {
    if (!this.writableEnded) this.end();
    // the header check needs only the captured bytes: it runs while the last writes complete
    let checked: { summary: DatasetSummary; header?: Buffer } | undefined;
    let checkError: unknown;
    try {
      if (!this.failure) checked = this.check();
    } catch (err) {
      checkError = err;
    }
    await this.done;
    this.releasePressure();
    try {
      if (this.failure) throw this.failure;
      if (checkError) throw checkError;
      if (!this.handle || !checked) throw new BodyrouteError('SPOOL_IO', 'spool file was not opened', true);
      const fileBytes = this.opts.header.length + this.datasetBytes;
      const slot = this.opts.slot;
      const handle = this.handle;
      // the record after the bytes it proves; the CRC, not the order, keeps a crash before the fdatasync from proving torn bytes
      const record = slot && encodeSlotRecord({ slotName: slot.ready.name, id: slot.id, fileBytes }, this.bodyCrc);
      await Promise.all([record && handle.write(record, 0, record.length, 0), this.overwriting && handle.truncate(fileBytes)]);
      // data and the size that makes it readable; mtime and the like need no flush
      await this.earlyFlush;
      if (this.failure) throw this.failure;
      await this.handle.datasync();
      const closing = this.closeHandle();
      return {
        path: this.path,
        inSlot: slot !== undefined,
        datasetBytes: this.datasetBytes,
        summary: checked.summary,
        header: checked.header,
        closed: closing,
      };
    } catch (err) {
      await this.discard();
      throw err instanceof BodyrouteError ? err : new BodyrouteError('SPOOL_IO', errorMessage(err), true);
    }
  }

  /** Drops the partial object (peer went away, association aborted). */
  async discard(): Promise<void> {
    if (!this.writableEnded) this.end();
    await this.done;
    this.releasePressure();
    await this.earlyFlush;
    await this.closeHandle();
    await fsp.unlink(this.path).catch(() => undefined);
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => undefined);
  }

  /** Reads the header from the captured prefix and checks the object is not cut short. */
  private check(): { summary: DatasetSummary; header?: Buffer } {
    if (this.datasetBytes === 0) throw new BodyrouteError('OBJECT_MALFORMED', 'empty dataset', false);
    const prefix = Buffer.concat(this.captured);
    let summary: DatasetSummary;
    try {
      summary = summarizeDataset(prefix.subarray(0, Math.min(prefix.length, this.datasetBytes)), this.opts.transferSyntaxUid, this.opts.summaryTags);
    } catch (err) {
      if (err instanceof MalformedError) throw new BodyrouteError('OBJECT_MALFORMED', err.message, false);
      throw err;
    }
    const deflated = findTransferSyntax(this.opts.transferSyntaxUid)?.deflated ?? false;
    const wholeInPrefix = prefix.length >= this.datasetBytes;
    if (!deflated && summary.extent === 'truncated') {
      const open = summary.openElement;
      if (wholeInPrefix || !open) throw new BodyrouteError('OBJECT_TRUNCATED', 'dataset ends inside an element', false);
      if (open.length === 0xffffffff) {
        const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
        const delimiterBe = Buffer.from([0xff, 0xfe, 0xe0, 0xdd, 0, 0, 0, 0]);
        if (!this.tail.equals(delimiter) && !this.tail.equals(delimiterBe)) {
          throw new BodyrouteError('OBJECT_TRUNCATED', 'undefined-length element is not closed at the end of the dataset', false);
        }
      } else if (open.valueStart + open.length > this.datasetBytes) {
        throw new BodyrouteError('OBJECT_TRUNCATED', `dataset ends ${open.valueStart + open.length - this.datasetBytes} bytes early`, false);
      }
    }
    if (!summary.values.has(Tags.SopInstanceUid)) {
      throw new BodyrouteError('OBJECT_MALFORMED', 'dataset has no SOP Instance UID', false);
    }
    const header = headerOf(prefix, summary, this.datasetBytes);
    return { summary, header };
  }
}
