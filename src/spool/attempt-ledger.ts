import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from '../fs/durable';
import { SpoolLayout } from './layout';

/**
 * The pipeline's failed attempts on each inbox object, by stage, kept beside the object
 * (inbox/<id>.attempts) so that a restart does not give a poison object a fresh count. Only
 * failures write; the common path (no failure) costs nothing: which ids have a file is known in
 * memory, from the inbox listing at start and from this run's own writes.
 */
export class AttemptLedger {
  private readonly withFile = new Set<string>();

  constructor(private readonly layout: SpoolLayout) {}

  /** At start: the ids that have a ledger file; removes the files of objects no longer in the inbox. */
  async load(inboxFiles: readonly string[]): Promise<void> {
    const names = new Set(inboxFiles);
    for (const name of inboxFiles) {
      if (!name.endsWith(SUFFIX)) continue;
      const id = name.slice(0, -SUFFIX.length);
      if (names.has(`${id}.dcm`)) this.withFile.add(id);
      else await fsp.unlink(this.layout.attempts(id)).catch(() => undefined);
    }
  }

  /** Failed attempts so far on `id` at each stage. */
  async read(id: string): Promise<Record<string, number>> {
    if (!this.withFile.has(id)) return {};
    try {
      const parsed: unknown = JSON.parse(await fsp.readFile(this.layout.attempts(id), 'utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, number>) : {};
    } catch {
      return {}; // unreadable (a crash mid-write is excluded by the atomic write): count afresh
    }
  }

  /** Counts one more failed attempt at `stage`; returns the count. */
  async record(id: string, stage: string): Promise<number> {
    const counts = await this.read(id);
    counts[stage] = (counts[stage] ?? 0) + 1;
    await writeFileAtomic(this.layout.attempts(id), JSON.stringify(counts) + '\n');
    this.withFile.add(id);
    return counts[stage];
  }

  /** The object left the inbox (routed, set aside): its count goes with it. */
  async clear(id: string): Promise<void> {
    if (!this.withFile.delete(id)) return;
    await fsp.unlink(this.layout.attempts(id)).catch(() => undefined);
  }
}

const SUFFIX = '.attempts';
