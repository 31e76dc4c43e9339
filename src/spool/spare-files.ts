import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Clock, systemClock } from '../clock';

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
  /** Newest last: the newest is taken first (its pages are the likeliest still cached). */
  private readonly spares: { path: string; since: number; bytes: number }[] = [];
  private counter = 0;
  private cancelSweep: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly clock: Clock = systemClock,
    private readonly max = MAX_SPARE_FILES,
    private readonly keepMs = SPARE_KEEP_MS,
  ) {}

  /** Empties the folder: spares left by an earlier run (a name left here by a crash is only a name: unlinking it never touches another). */
  async init(): Promise<number> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const left = await fsp.readdir(this.dir);
    for (const f of left) await fsp.unlink(join(this.dir, f)).catch(() => undefined);
    return left.length;
  }

  get size(): number {
    return this.spares.length;
  }

  /** Disk space the spares hold: free for the taking, since the next receives write over them or they expire. */
  get bytes(): number {
    return this.spares.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** A spare to write a new object over (the caller owns it from now on), or undefined when there is none. */
  take(): string | undefined {
    return this.takeSized()?.path;
  }

  /** As take(), with the bytes the spare holds (a slot file made from it counts them as free). */
  takeSized(): { path: string; bytes: number } | undefined {
    const spare = this.spares.pop();
    return spare && { path: spare.path, bytes: spare.bytes };
  }

  /**
   * Disposes of a file no longer needed: kept as a spare when there is room and nothing else links to it,
   * deleted otherwise. Either way the name `path` is gone when this resolves. `syncFolder` makes the
   * removal from path's folder durable (an fsync of that folder, shared with others).
   */
  async give(path: string, syncFolder: () => Promise<void>): Promise<void> {
    if (this.closed || this.spares.length >= this.max) return fsp.unlink(path);
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
    this.spares.push({ path: spare, since: this.clock.now(), bytes: size });
    this.cancelSweep ??= this.clock.setTimer(this.keepMs, () => void this.sweep());
  }

  /** Deletes every spare and keeps none from now on (at shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelSweep?.();
    this.cancelSweep = undefined;
    const all = this.spares.splice(0);
    await Promise.all(all.map((s) => fsp.unlink(s.path).catch(() => undefined)));
  }

  /** Deletes the spares older than keepMs (the oldest are first) and looks again when the next would be. */
  private async sweep(): Promise<void> {
    this.cancelSweep = undefined;
    const cutoff = this.clock.now() - this.keepMs;
    let stale = 0;
    while (stale < this.spares.length && this.spares[stale].since <= cutoff) stale++;
    const expired = this.spares.splice(0, stale);
    await Promise.all(expired.map((s) => fsp.unlink(s.path).catch(() => undefined)));
    if (this.spares.length && !this.closed) {
      this.cancelSweep = this.clock.setTimer(this.spares[0].since + this.keepMs - this.clock.now(), () => void this.sweep());
    }
  }
}
