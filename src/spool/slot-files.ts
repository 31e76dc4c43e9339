import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Clock, systemClock } from '../clock';
import { errorMessage } from '../errors';
import { DirectorySync } from '../fs/durable';
import { GroupSync } from '../fs/group-sync';
import { KeptBriefly } from './kept-briefly';
import { SpareFiles } from './spare-files';
import { SLOT_RECORD_BYTES, SlotRecord, slotRecordMayHold, verifySlotRecord } from './slot-record';

/** A slot file ready to receive into: its name is durable in the slots folder, its handle open. */
export interface ReadySlot {
  path: string;
  name: string;
  handle: fsp.FileHandle;
  /** Made from a spare: longer than the next object may be, cut to its length before the fdatasync. */
  overwriting: boolean;
}

/** A ready slot unused for this long is deleted: it may hold a delivered object's bytes (made from a spare). */
export const SLOT_KEEP_MS = 10_000;

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Files whose names were made durable ahead of need, so that a receive into one is acknowledged after a
 * single fdatasync: no rename into the inbox and no fsync of the inbox folder on the way to the success
 * response (docs/architecture.md, "Durability, step by step"). A receive writes the object into the slot
 * and, last, the slot record (slot-record.ts) into its preamble; the object then stays in the slot file
 * until the pipeline promotes it into the store, as it would from the inbox. Refilled in batches, one
 * folder fsync each, off the acknowledgement path, from spare files first (SpareFiles: writing over blocks
 * a file has is cheaper) and new empty files otherwise. Only while receives come: an unused slot is
 * deleted after SLOT_KEEP_MS and at close(), the first receive after a pause goes the plain way.
 */
export class SlotFiles {
  /** The oldest is taken first. */
  private readonly ready: KeptBriefly<{ slot: ReadySlot; bytes: number }>;
  /** Names are unique across runs, so a record left by an earlier run never names a slot file of this one. */
  private readonly run = randomBytes(4).toString('hex');
  private counter = 0;
  private refilling: Promise<void> | undefined;
  private closed = false;
  private readonly folder: DirectorySync;
  private readonly folderSync: GroupSync;

  constructor(
    readonly dir: string,
    private readonly spares: SpareFiles,
    private readonly target: number,
    clock: Clock = systemClock,
    keepMs = SLOT_KEEP_MS,
  ) {
    this.ready = new KeptBriefly(clock, keepMs, (s) => dispose(s.slot));
    this.folder = new DirectorySync(dir);
    this.folderSync = new GroupSync(() => this.folder.sync());
  }

  /**
   * Reads what an earlier run left: returns the slot files holding acknowledged objects (their record
   * proves it) and those that could not be read (never deleted: they may hold one), and deletes every
   * other file, read and found never acknowledged.
   */
  async init(): Promise<{ acknowledged: { path: string; record: SlotRecord }[]; unreadable: { path: string; reason: string }[] }> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const acknowledged: { path: string; record: SlotRecord }[] = [];
    const unreadable: { path: string; reason: string }[] = [];
    for (const name of (await fsp.readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      let record: SlotRecord | undefined;
      try {
        record = await readSlotRecord(path);
      } catch (err) {
        unreadable.push({ path, reason: errorMessage(err) });
        continue;
      }
      if (record) acknowledged.push({ path, record });
      else await fsp.unlink(path).catch(() => undefined);
    }
    return { acknowledged, unreadable };
  }

  get size(): number {
    return this.ready.size;
  }

  /** Disk space the ready slots made from spares hold: free for the taking, like the spares'. */
  get bytes(): number {
    return this.ready.bytes;
  }

  /** A slot to receive into (the caller owns it from now on), or undefined when none is ready; refills in the background. */
  take(): ReadySlot | undefined {
    const taken = this.ready.takeOldest()?.slot;
    if (this.ready.size <= this.target / 2) this.refillSoon();
    return taken;
  }

  /** Waits for a refill in progress (tests, shutdown). */
  async settled(): Promise<void> {
    await this.refilling;
  }

  /** Deletes the ready slots and makes no more (at shutdown). Slots taken stay with their receives. */
  async close(): Promise<void> {
    this.closed = true;
    await this.refilling;
    await this.ready.close();
    await this.folder.close();
  }

  private refillSoon(): void {
    if (this.refilling || this.closed || this.target === 0) return;
    this.refilling = this.refill()
      .catch(() => undefined) // a folder that cannot take a slot now: receives go the plain way, which reports the error
      .finally(() => (this.refilling = undefined));
  }

  private async refill(): Promise<void> {
    const wanted = this.target - this.ready.size;
    if (wanted <= 0) return;
    const made = await Promise.all(Array.from({ length: wanted }, () => this.make().catch(() => undefined)));
    const slots = made.filter((s): s is { slot: ReadySlot; bytes: number } => s !== undefined);
    try {
      // their names durable before any receive is acknowledged in them
      await this.folderSync.sync();
    } catch (err) {
      await Promise.all(slots.map((s) => dispose(s.slot)));
      throw err;
    }
    if (this.closed) {
      await Promise.all(slots.map((s) => dispose(s.slot)));
      return;
    }
    for (const s of slots) this.ready.add(s);
  }

  /** A spare renamed into the folder (its old record names another slot file), else a new empty file. */
  private async make(): Promise<{ slot: ReadySlot; bytes: number }> {
    const name = `${this.run}-${(++this.counter).toString(36).padStart(6, '0')}.slot`;
    const path = join(this.dir, name);
    const spare = this.spares.takeSized();
    if (spare) {
      try {
        await fsp.rename(spare.path, path);
        return { slot: { path, name, handle: await fsp.open(path, 'r+'), overwriting: true }, bytes: spare.bytes };
      } catch {
        await Promise.all([fsp.unlink(spare.path).catch(() => undefined), fsp.unlink(path).catch(() => undefined)]);
      }
    }
    return { slot: { path, name, handle: await fsp.open(path, 'wx', 0o600), overwriting: false }, bytes: 0 };
  }
}

/** Closes and deletes a slot that holds no acknowledged object (its removal needs no sync: its record proves nothing). */
async function dispose(slot: ReadySlot): Promise<void> {
  await slot.handle.close().catch(() => undefined);
  await fsp.unlink(slot.path).catch(() => undefined);
}

/** The record of a slot file that holds an acknowledged object, or undefined (never written, cut short, stale). */
export async function readSlotRecord(path: string): Promise<SlotRecord | undefined> {
  const handle = await fsp.open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < SLOT_RECORD_BYTES) return undefined;
    const preamble = Buffer.alloc(SLOT_RECORD_BYTES);
    await handle.read(preamble, 0, SLOT_RECORD_BYTES, 0);
    // a record that names another slot file or length is stale whatever the bytes: no need to read them
    if (!slotRecordMayHold(preamble, size, basename(path))) return undefined;
    let crc = 0;
    const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, size));
    for (let at = SLOT_RECORD_BYTES; at < size;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - at), at);
      if (bytesRead <= 0) return undefined;
      crc = crc32(chunk.subarray(0, bytesRead), crc);
      at += bytesRead;
    }
    return verifySlotRecord(preamble, crc, size, basename(path));
  } finally {
    await handle.close();
  }
}
