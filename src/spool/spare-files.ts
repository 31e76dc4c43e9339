import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Clock, systemClock } from '../clock';
import { KeptBriefly } from './kept-briefly';

/** Most delivered objects' files kept for reuse: enough for a few associations' bursts, a few MB of disk. */
export const MAX_SPARE_FILES = 32;
/** A spare not reused within this long is deleted: delivered images do not linger in the spool when traffic stops. */
export const SPARE_KEEP_MS = 10_000;

/**
 * Files of delivered objects, kept a few seconds to receive the next objects into, the way databases
 * recycle their log segments. A new object written over a file that already has its blocks needs no block
 * allocation, so its fdatasync writes the data and at most the size, not the allocation's metadata:
 * docs/performance.md, "Spare files". A spare holds an image that has been delivered, so it is kept only
 * briefly, never longer than SPARE_KEEP_MS, and never past close(). Two rules keep a spare from ever
 * being read as the object it held: a file with another name linked to it (a dead letter) is never a
 * spare, since writing over it would change that copy too; and a spare is handed out only once the
 * removal of its old name is durable, so that no crash can bring the old name back pointing at a new
 * object's bytes.
 */
export class SpareFiles {
  /** The newest is taken first (its pages are the likeliest still cached). */
  private readonly spares: KeptBriefly<{ path: string; bytes: number }>;
  private counter = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    clock: Clock = systemClock,
    private readonly max = MAX_SPARE_FILES,
    keepMs = SPARE_KEEP_MS,
  ) {
    this.spares = new KeptBriefly(clock, keepMs, (s) => fsp.unlink(s.path).catch(() => undefined));
  }

  /** Empties the folder: spares left by an earlier run (a name left here by a crash is only a name: unlinking it never touches another). */
  async init(): Promise<number> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const left = await fsp.readdir(this.dir);
    for (const f of left) await fsp.unlink(join(this.dir, f)).catch(() => undefined);
    return left.length;
  }

  get size(): number {
    return this.spares.size;
  }

  /** Disk space the spares hold: free for the taking, since the next receives write over them or they expire. */
  get bytes(): number {
    return this.spares.bytes;
  }

  /** A spare to write a new object over (the caller owns it from now on), or undefined when there is none. */
  take(): string | undefined {
    return this.takeSized()?.path;
  }

  /** As take(), with the bytes the spare holds (a slot file made from it counts them as free). */
  takeSized(): { path: string; bytes: number } | undefined {
    return this.spares.takeNewest();
  }

  /**
   * Disposes of a file no longer needed: kept as a spare when there is room and nothing else links to it,
   * deleted otherwise. Either way the name `path` is gone when this resolves. `syncFolder` makes the
   * removal from path's folder durable (an fsync of that folder, shared with others).
   */
  async give(path: string, syncFolder: () => Promise<void>): Promise<void> {
    if (this.closed || this.spares.size >= this.max) return fsp.unlink(path);
    const { nlink, size } = await fsp.stat(path);
    if (nlink !== 1) return fsp.unlink(path);
    const spare = join(this.dir, `${(++this.counter).toString(36)}.spare`);
    // the spare folder gone (removed by hand): deleted instead, as before spare files
    const renamed = await fsp.rename(path, spare).then(
      () => true,
      () => false,
    );
    if (!renamed) return fsp.unlink(path);
    // not durable, it cannot be a spare: deleted like any file (whose removal is not synced either)
    const synced = await syncFolder().then(
      () => true,
      () => false,
    );
    if (!synced || this.closed) return fsp.unlink(spare);
    this.spares.add({ path: spare, bytes: size });
  }

  /** Deletes every spare and keeps none from now on (at shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await this.spares.close();
  }
}
