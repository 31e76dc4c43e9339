import { randomBytes } from 'node:crypto';
import { promises as fsp, statfsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { headerOf, SUMMARY_TAGS, summarizeDataset } from '../dicom/header';
import { editsPathFor, readEdits } from './dataset-edits';
import { buildFileMetaHeader, readFileMeta } from '../dicom/part10';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { DirectorySync } from '../fs/durable';
import { GroupSync } from '../fs/group-sync';
import { ReceiveContext, SpooledObject } from './spooled-object';
import { SpoolWriter, WrittenObject } from './spool-writer';
import { AsideFolder, SpoolLayout } from './layout';
import { AttemptLedger } from './attempt-ledger';
import { MAX_SPARE_FILES, SpareFiles } from './spare-files';
import { SlotFiles } from './slot-files';
import { systemClock } from '../clock';

/**
 * The durable spool. Folders, each a stage of an object's life:
 *   tmp/    objects being received (removed at start: never acknowledged)
 *   slots/  slot files (spool.slotFiles): receives acknowledged after one fdatasync (moved to inbox/ at start)
 *   inbox/  acknowledged, not yet routed (re-run through the pipeline at start)
 *   store/  routed; kept until every destination's delivery is done
 * Queue entries and dead letters live under queue/ and dead/ (see dispatch/).
 */
export interface SpoolOptions {
  dir: string;
  minFreeBytes: number;
  maxObjectBytes: number;
  /** Attributes read at receive time beyond SUMMARY_TAGS (e.g. those routing rules name). */
  extraSummaryTags?: readonly number[];
  /** Most delivered objects' files kept to receive new objects into (SpareFiles); 0: every object gets a new file. */
  maxSpareFiles?: number;
  /** Slot files kept ready to receive into (SlotFiles), one sync per acknowledgement; 0: none, every receive renamed into the inbox. */
  slotFiles?: number;
}

const CAPTURE_BYTES = 1024 * 1024;
const PAUSE_ABOVE_BYTES = 4 * 1024 * 1024;
const ID_PATTERN = /^[0-9a-z]{11}-[0-9a-f]{6}-[0-9a-f]{8}$/;

export class Spool {
  readonly tmpDir: string;
  readonly inboxDir: string;
  readonly storeDir: string;
  private counter = 0;
  private freeCheckedAt = 0;
  /** The filesystem's free bytes when last asked (spaceRefusal). */
  private filesystemFree = Number.POSITIVE_INFINITY;
  private readonly summaryTags: readonly number[];
  private readonly storeDirectory: DirectorySync;
  private readonly inboxDirectory: DirectorySync;
  private readonly storeSync = new GroupSync(() => this.storeDirectory.sync());
  private readonly inboxSync = new GroupSync(() => this.inboxDirectory.sync());

  constructor(
    private readonly opts: SpoolOptions,
    private readonly log: Logger,
  ) {
    this.layout = new SpoolLayout(opts.dir);
    this.tmpDir = this.layout.tmp;
    this.inboxDir = this.layout.inbox;
    this.storeDir = this.layout.store;
    this.storeDirectory = new DirectorySync(this.storeDir);
    this.inboxDirectory = new DirectorySync(this.inboxDir);
    this.summaryTags = [...new Set([...SUMMARY_TAGS, ...(opts.extraSummaryTags ?? [])])];
    this.attempts = new AttemptLedger(this.layout);
    this.spares = new SpareFiles(this.layout.spare, systemClock, opts.maxSpareFiles ?? MAX_SPARE_FILES);
    this.slots = new SlotFiles(this.layout.slots, this.spares, opts.slotFiles ?? 0);
  }

  /** Where everything of this spool lives. */
  readonly layout: SpoolLayout;
  /** The pipeline's failed attempts on inbox objects, kept with them. */
  readonly attempts: AttemptLedger;
  /** Delivered objects' files, written over by the next receives. */
  readonly spares: SpareFiles;
  /** Files made ready to receive into with one sync per acknowledgement. */
  readonly slots: SlotFiles;
  /** Stored objects loaded with an <id>.edits file beside them (written by an earlier bodyroute), removed with them. */
  private readonly withEditsFile = new Set<string>();

  get dir(): string {
    return this.opts.dir;
  }

  async init(): Promise<void> {
    for (const d of [this.opts.dir, this.tmpDir, this.inboxDir, this.storeDir]) {
      await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    }
    const leftovers = await fsp.readdir(this.tmpDir);
    for (const f of leftovers) await fsp.unlink(join(this.tmpDir, f)).catch(() => undefined);
    if (leftovers.length) this.log.warn('removed partial receives left by an earlier run (never acknowledged)', { count: leftovers.length });
    // spares, and receives written over a spare that were never acknowledged
    await this.spares.init();
    await this.recoverSlots();
    // tags not yet promoted are made again from the originals; half-written files are dropped
    const inbox = await fsp.readdir(this.inboxDir);
    for (const f of inbox) {
      if (f.endsWith('.tagged.dcm') || f.endsWith('.edits') || f.endsWith('.tmp')) await fsp.unlink(join(this.inboxDir, f)).catch(() => undefined);
    }
    await this.attempts.load(inbox);
  }

  /**
   * Moves the objects acknowledged in slot files by an earlier run into the inbox, where start-up recovery
   * takes them like any other; deletes the slot files that hold none. A crash during the moves leaves each
   * object under one name or the other, both read again at the next start.
   */
  private async recoverSlots(): Promise<void> {
    const { acknowledged, unreadable } = await this.slots.init();
    // the record's id is bodyroute's own; were it ever not, the object still goes on, under a new one
    for (const { path, record } of acknowledged) await fsp.rename(path, this.inboxPath(Spool.isId(record.id) ? record.id : this.newId()));
    if (acknowledged.length) {
      await this.inboxSync.sync();
      this.log.info('acknowledged objects found in slot files moved to the inbox', { count: acknowledged.length });
    }
    // it may hold an acknowledged object: kept aside for an operator, never deleted
    for (const { path, reason } of unreadable)
      await this.setAside({ id: this.newId(), path }, 'quarantine', `slot file ${basename(path)} unreadable at start: ${reason}`);
  }

  /** Releases the folders' handles kept for their fsyncs (at shutdown). */
  async close(): Promise<void> {
    await Promise.all([this.inboxDirectory.close(), this.storeDirectory.close(), this.spares.close(), this.slots.close()]);
  }

  /** Time-ordered, unique, and safe as a file name whatever the peer sent. */
  newId(): string {
    this.counter = (this.counter + 1) % 0x1000000;
    return `${Date.now().toString(36).padStart(11, '0')}-${this.counter.toString(16).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
  }

  /** When the object's receive began (ids start with the time in base 36). */
  static receivedAt(id: string): number {
    return parseInt(id.slice(0, 11), 36);
  }

  /** The id of a spooled object's file name (<id>.dcm); undefined for any other name. */
  static idOfFile(name: string): string | undefined {
    const id = name.endsWith('.dcm') ? name.slice(0, -4) : '';
    return Spool.isId(id) ? id : undefined;
  }

  static isId(name: string): boolean {
    return ID_PATTERN.test(name);
  }

  inboxPath(id: string): string {
    return this.layout.inboxObject(id);
  }

  storePath(id: string): string {
    return join(this.storeDir, `${id}.dcm`);
  }

  /** Starts receiving one object. Refuses up front when the spool's disk is short of space. */
  beginReceive(
    id: string,
    sopClassUid: string,
    sopInstanceUid: string,
    transferSyntaxUid: string,
    origin: ReceiveContext,
    refusal?: BodyrouteError,
  ): SpoolWriter {
    const header = buildFileMetaHeader({
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid,
      sourceAeTitle: origin.callingAeTitle,
      privateInformation: Buffer.from(JSON.stringify(origin), 'utf8'),
    });
    refusal ??= this.spaceRefusal();
    const slot = refusal ? undefined : this.slots.take();
    return new SpoolWriter({
      tmpPath: join(this.tmpDir, `${id}.part`),
      slot: slot && { ready: slot, id },
      spare: refusal || slot ? undefined : this.spares.take(),
      header,
      transferSyntaxUid,
      maxObjectBytes: this.opts.maxObjectBytes,
      captureBytes: CAPTURE_BYTES,
      pauseAboveBytes: PAUSE_ABOVE_BYTES,
      summaryTags: this.summaryTags,
      refusal,
    });
  }

  /**
   * Free bytes on the spool's filesystem, counting spare files and ready slot files as free (the receives write over them);
   * throws when the filesystem cannot be read. The one definition for refusals, /healthz and the metric.
   */
  freeBytes(): number {
    return this.withReusableFiles(this.filesystemFreeBytes());
  }

  private filesystemFreeBytes(): number {
    const s = statfsSync(this.opts.dir);
    return s.bavail * s.bsize;
  }

  /** `filesystemFree` plus what spare and ready slot files hold, which the next receives write over. */
  private withReusableFiles(filesystemFree: number): number {
    return filesystemFree + this.spares.bytes + this.slots.bytes;
  }

  /** Checked for every receive: the filesystem is asked at most once a second, the spares only when short. */
  private spaceRefusal(): BodyrouteError | undefined {
    const now = Date.now();
    if (now - this.freeCheckedAt > 1000) {
      try {
        this.filesystemFree = this.filesystemFreeBytes();
      } catch (err) {
        return new BodyrouteError('SPOOL_IO', `cannot stat spool: ${errorMessage(err)}`, true);
      }
      this.freeCheckedAt = now;
    }
    if (this.filesystemFree >= this.opts.minFreeBytes) return undefined;
    const free = this.withReusableFiles(this.filesystemFree);
    if (free < this.opts.minFreeBytes) {
      return new BodyrouteError('SPOOL_FULL', `spool has ${free} bytes free, below spool.minFreeBytes (${this.opts.minFreeBytes})`, true);
    }
    return undefined;
  }

  /**
   * Moves a durable temporary file into the inbox; an object received into a slot file is durable under its
   * name already and stays there until promoted. After this resolves the object may be acknowledged.
   */
  async commit(
    id: string,
    written: WrittenObject,
    meta: { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string; origin: ReceiveContext; headerBytes: number },
  ): Promise<SpooledObject> {
    const path = written.inSlot ? written.path : await this.moveIntoInbox(id, written);
    const s = written.summary;
    return {
      id,
      path,
      sopClassUid: meta.sopClassUid,
      sopInstanceUid: meta.sopInstanceUid,
      transferSyntaxUid: meta.transferSyntaxUid,
      studyInstanceUid: s.studyInstanceUid,
      seriesInstanceUid: s.seriesInstanceUid,
      modality: s.modality,
      origin: meta.origin,
      datasetOffset: meta.headerBytes,
      sizeBytes: meta.headerBytes + written.datasetBytes,
      attributes: s.values,
      header: written.header,
    };
  }

  private async moveIntoInbox(id: string, written: WrittenObject): Promise<string> {
    const path = this.inboxPath(id);
    try {
      await fsp.rename(written.path, path);
      await Promise.all([this.inboxSync.sync(), written.closed]);
      return path;
    } catch (err) {
      await written.closed;
      await fsp.unlink(written.path).catch(() => undefined);
      throw new BodyrouteError('SPOOL_IO', `cannot commit to spool: ${errorMessage(err)}`, true);
    }
  }

  /** Rebuilds the object record from a spooled file (start-up recovery). */
  async load(id: string, path: string): Promise<SpooledObject> {
    const handle = await fsp.open(path, 'r');
    try {
      const { size } = await handle.stat();
      const prefix = Buffer.alloc(Math.min(size, CAPTURE_BYTES + 64 * 1024));
      await handle.read(prefix, 0, prefix.length, 0);
      const meta = readFileMeta(prefix);
      const summary = summarizeDataset(prefix.subarray(meta.datasetOffset), meta.transferSyntaxUid, this.summaryTags);
      const origin = parseOrigin(meta.privateInformation, meta.sourceAeTitle);
      const header = headerOf(prefix.subarray(meta.datasetOffset), summary, size - meta.datasetOffset);
      // only a store written by an earlier bodyroute has edits files (now the journal holds them; init() removed the inbox's)
      const edits = dirname(path) === this.storeDir ? await readEdits(editsPathFor(path), size - meta.datasetOffset) : undefined;
      if (edits) this.withEditsFile.add(id);
      return {
        id,
        path,
        sopClassUid: meta.sopClassUid,
        sopInstanceUid: meta.sopInstanceUid,
        transferSyntaxUid: meta.transferSyntaxUid,
        studyInstanceUid: summary.studyInstanceUid,
        seriesInstanceUid: summary.seriesInstanceUid,
        modality: summary.modality,
        origin,
        datasetOffset: meta.datasetOffset,
        sizeBytes: size,
        attributes: summary.values,
        header,
        edits,
      };
    } finally {
      await handle.close();
    }
  }

  /** Ids in a spool folder, oldest first. */
  async listIds(dir: string): Promise<string[]> {
    const names = await fsp.readdir(dir);
    return names
      .map((n) => Spool.idOfFile(n))
      .filter((id): id is string => id !== undefined)
      .sort();
  }

  taggedPath(id: string): string {
    return this.layout.taggedCopy(id);
  }

  /**
   * Keeps an inbox object aside with the reason (<folder>/<id>.dcm and <id>.txt), never deleting
   * it: the reason first, the object last, then what the pipeline wrote beside it.
   */
  async setAside(obj: { id: string; path: string }, folder: AsideFolder, reason: string): Promise<void> {
    const dir = this.layout.aside(folder);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.writeFile(join(dir, `${obj.id}.txt`), reason + '\n', { mode: 0o600 });
    await fsp.rename(obj.path, join(dir, `${obj.id}.dcm`));
    await fsp.unlink(editsPathFor(obj.path)).catch(() => undefined);
    await fsp.unlink(this.taggedPath(obj.id)).catch(() => undefined);
    await this.attempts.clear(obj.id);
    this.log.warn(`object moved to ${folder}`, { id: obj.id, reason });
  }

  /** Inbox → store (the tagged copy where there is one), once the object's deliveries are journalled. */
  async promote(obj: SpooledObject): Promise<SpooledObject> {
    const path = this.storePath(obj.id);
    if (obj.tagged) {
      await fsp.rename(obj.tagged.path, path);
      await this.storeSync.sync();
      await fsp.unlink(obj.path);
      return { ...obj, path, sizeBytes: obj.tagged.sizeBytes, datasetOffset: obj.tagged.datasetOffset, tagged: undefined };
    }
    // its edits, if any, are in the journal lines written before this
    await fsp.rename(obj.path, path);
    await this.storeSync.sync();
    return { ...obj, path };
  }

  /** Takes a file back into the store (a requeued dead letter), unless the store still holds the object. */
  async adopt(id: string, from: string): Promise<string> {
    const path = this.storePath(id);
    try {
      // a dead letter is the whole object as it was to be sent: no edits apply to it
      if (
        await fsp.stat(path).then(
          () => false,
          () => true,
        )
      )
        await fsp.unlink(editsPathFor(path)).catch(() => undefined);
      await fsp.link(from, path);
      await this.storeSync.sync();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await fsp.unlink(from);
    return path;
  }

  async removeStored(id: string): Promise<void> {
    const ignoreMissing = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    };
    // the file first: an edits file a crash leaves behind is removed by adopt(), the only way an id returns
    await this.spares.give(this.storePath(id), () => this.storeSync.sync()).catch(ignoreMissing);
    if (this.withEditsFile.delete(id)) await fsp.unlink(editsPathFor(this.storePath(id))).catch(ignoreMissing);
  }
}

function parseOrigin(info: Buffer | undefined, sourceAeTitle: string | undefined): ReceiveContext {
  if (info) {
    try {
      const o = JSON.parse(info.toString('utf8').trim()) as Partial<ReceiveContext>;
      return {
        callingAeTitle: String(o.callingAeTitle ?? sourceAeTitle ?? ''),
        calledAeTitle: String(o.calledAeTitle ?? ''),
        remoteAddress: String(o.remoteAddress ?? ''),
        receivedAt: String(o.receivedAt ?? ''),
      };
    } catch {
      // fall through: an unreadable record still leaves the calling AE from the file meta
    }
  }
  return { callingAeTitle: sourceAeTitle ?? '', calledAeTitle: '', remoteAddress: '', receivedAt: '' };
}
