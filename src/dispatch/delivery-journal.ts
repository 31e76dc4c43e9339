import { promises as fsp } from 'node:fs';
import { GroupSync } from '../fs/group-sync';
import { writeFileAtomic } from '../fs/durable';

/**
 * Per-destination delivery state as an append-only journal: "+id" enqueued, "-id" delivered,
 * "!id" dead-lettered, "~id n" n failed attempts so far. Replayed at start, so every pending
 * delivery, and how often it already failed, survives kill -9.
 * Appends are made durable by one coalesced fsync (group commit).
 */
export class DeliveryJournal {
  private handle: fsp.FileHandle | undefined;
  private readonly syncer = new GroupSync(async () => {
    await this.handle?.datasync();
  });
  private lines = 0;
  /** Failed attempts of the pending ids, as replayed at open. */
  private readonly attempts = new Map<string, number>();

  constructor(readonly path: string) {}

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
    for (const line of text.split('\n')) {
      const [id, count] = line.slice(1).trim().split(' ');
      if (!id) continue;
      if (line[0] === '+') pending.add(id);
      else if (line[0] === '-' || line[0] === '!') pending.delete(id);
      else if (line[0] === '~' && Number(count) > 0) attempts.set(id, Number(count));
    }
    const ids = [...pending];
    this.attempts.clear();
    for (const id of ids) if (attempts.has(id)) this.attempts.set(id, attempts.get(id)!);
    try {
      await writeFileAtomic(this.path, ids.map((id) => `+${id}\n${this.attempts.has(id) ? `~${id} ${this.attempts.get(id)}\n` : ''}`).join(''));
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

  private async append(text: string, count: number): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error(`journal ${this.path} is not open`);
    const write = this.writes.then(() => handle.write(text));
    this.writes = write.catch(() => undefined);
    await write;
    this.lines += count;
    await this.syncer.sync();
  }

  enqueue(id: string): Promise<void> {
    return this.append(`+${id}\n`, 1);
  }

  delivered(id: string): Promise<void> {
    return this.append(`-${id}\n`, 1);
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

  /** Starts the journal afresh once nothing is pending, so it does not grow without end. */
  async truncateIfIdle(pendingCount: number, threshold = 10000): Promise<void> {
    if (pendingCount > 0 || this.lines < threshold || !this.handle) return;
    await this.handle.truncate(0);
    await this.handle.sync();
    this.lines = 0;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close();
  }
}
