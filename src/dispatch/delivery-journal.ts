import { promises as fsp } from 'node:fs';
import { GroupSync } from '../fs/group-sync';
import { writeFileAtomic } from '../fs/durable';
import { Clock, systemClock } from '../clock';

/** How long a "delivered" line may wait for the next fsync before it gets one of its own. */
export const DELIVERED_SYNC_DELAY_MS = 1000;

/**
 * Per-destination delivery state as an append-only journal: "+id [edits]" enqueued (with bodyroute's
 * edits of the object, so that they are durable with the same fsync), "-id" delivered, "!id"
 * dead-lettered, "~id n" n failed attempts so far. Replayed at start, so every pending delivery, its
 * edits and how often it already failed survive kill -9.
 * Appends are made durable by one coalesced fsync (group commit). A "-id" line does not wait for
 * one: the next append's fsync, or one within DELIVERED_SYNC_DELAY_MS, takes it along. Losing it in
 * a crash can only mean sending that object again, which a crash just after a send means anyway.
 */
export class DeliveryJournal {
  private handle: fsp.FileHandle | undefined;
  private readonly syncer = new GroupSync(async () => {
    await this.handle?.datasync();
  });
  private lines = 0;
  /** Failed attempts of the pending ids, as replayed at open. */
  private readonly attempts = new Map<string, number>();
  /** Edits of the pending ids as replayed at open (text, decoded once the object's size is known). */
  private readonly replayedEdits = new Map<string, string>();
  /** A "-id" line written and not yet fsync'd: cancels the timer that will fsync it. */
  private lazySync: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly deliveredSyncDelayMs = DELIVERED_SYNC_DELAY_MS,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Replays the journal and rewrites it with only the pending entries. Returns pending ids, oldest first. */
  async open(): Promise<string[]> {
    const pending = new Set<string>();
    let text = '';
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const attempts = new Map<string, number>();
    const edits = new Map<string, string>();
    for (const line of text.split('\n')) {
      const [id, rest] = splitOnce(line.slice(1).trim());
      if (!id) continue;
      if (line[0] === '+') {
        // a line cut short by a crash was never fsync'd, so its object was never promoted: it is not pending
        if (rest && !isJson(rest)) continue;
        pending.add(id);
        if (rest) edits.set(id, rest);
        else edits.delete(id);
      } else if (line[0] === '-' || line[0] === '!') pending.delete(id);
      else if (line[0] === '~' && Number(rest) > 0) attempts.set(id, Number(rest));
    }
    const ids = [...pending];
    this.attempts.clear();
    this.replayedEdits.clear();
    for (const id of ids) {
      if (attempts.has(id)) this.attempts.set(id, attempts.get(id)!);
      if (edits.has(id)) this.replayedEdits.set(id, edits.get(id)!);
    }
    const enqueued = (id: string) => `+${id}${this.replayedEdits.has(id) ? ` ${this.replayedEdits.get(id)}` : ''}\n`;
    try {
      await writeFileAtomic(this.path, ids.map((id) => `${enqueued(id)}${this.attempts.has(id) ? `~${id} ${this.attempts.get(id)}\n` : ''}`).join(''));
      this.lines = ids.length + this.attempts.size;
    } catch {
      // no room to compact (a full disk): go on appending to the journal as it is
      await fsp.unlink(`${this.path}.${process.pid}.tmp`).catch(() => undefined);
      this.lines = text.split('\n').length;
    }
    this.handle = await fsp.open(this.path, 'a', 0o600);
    return ids;
  }

  /** Appends in call order: concurrent writes on the thread pool may land in any order. */
  private writes: Promise<unknown> = Promise.resolve();

  private async append(text: string, count: number, durable = true): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error(`journal ${this.path} is not open`);
    const write = this.writes.then(() => handle.write(text));
    this.writes = write.catch(() => undefined);
    await write;
    this.lines += count;
    if (durable) {
      this.cancelLazySync();
      await this.syncer.sync();
    } else {
      this.lazySync ??= this.clock.setTimer(this.deliveredSyncDelayMs, () => {
        this.lazySync = undefined;
        this.syncer.sync().catch(() => undefined);
      });
    }
  }

  private cancelLazySync(): void {
    this.lazySync?.();
    this.lazySync = undefined;
  }

  /**
   * Journals a delivery to make, with bodyroute's edits of the object where it has any, as encodeEdits
   * wrote them (encoded once per object by the caller, whatever the number of destinations).
   */
  enqueue(id: string, encodedEdits?: string): Promise<void> {
    return this.append(`+${id}${encodedEdits ? ` ${encodedEdits}` : ''}\n`, 1);
  }

  /** Resolves once the line is written; its fsync comes with the next one (see the class comment). */
  delivered(id: string): Promise<void> {
    return this.append(`-${id}\n`, 1, false);
  }

  deadLettered(id: string): Promise<void> {
    return this.append(`!${id}\n`, 1);
  }

  /** Records that delivering `id` has now failed `attempts` times (so a restart does not start the count over). */
  attempted(id: string, attempts: number): Promise<void> {
    return this.append(`~${id} ${attempts}\n`, 1);
  }

  /** Failed attempts of a pending id when the journal was opened (0 for a new one). */
  attemptsOf(id: string): number {
    return this.attempts.get(id) ?? 0;
  }

  /** The edits a pending id was journalled with, as text for decodeEdits; forgotten once taken. */
  takeEdits(id: string): string | undefined {
    const text = this.replayedEdits.get(id);
    this.replayedEdits.delete(id);
    return text;
  }

  /** Start-up recovery is over: edits of ids not taken (objects routed again from the inbox) are not needed. */
  forgetReplayedEdits(): void {
    this.replayedEdits.clear();
  }

  /** Starts the journal afresh once nothing is pending, so it does not grow without end. */
  async truncateIfIdle(pendingCount: number, threshold = 10000): Promise<void> {
    if (pendingCount > 0 || this.lines < threshold || !this.handle) return;
    await this.handle.truncate(0);
    await this.handle.sync();
    this.lines = 0;
  }

  async close(): Promise<void> {
    if (this.lazySync) {
      this.cancelLazySync();
      await this.syncer.sync().catch(() => undefined);
    }
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close();
  }
}

function splitOnce(text: string): [string, string] {
  const space = text.indexOf(' ');
  return space < 0 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
