import { join } from 'node:path';

/**
 * Every folder and file of a spool, named in one place (docs/architecture.md, "On disk"). Whoever
 * reads or writes the spool asks this for the path instead of spelling it.
 */
export class SpoolLayout {
  constructor(readonly dir: string) {}

  /** Objects being received; emptied at start (never acknowledged). */
  get tmp(): string {
    return join(this.dir, 'tmp');
  }

  /** Files of delivered objects kept a few seconds to receive new objects into (SpareFiles); emptied at start. */
  get spare(): string {
    return join(this.dir, 'spare');
  }

  /**
   * Slot files (SlotFiles): made ready ahead of receives, then each holds one object, acknowledged once its
   * slot record is durable, until the pipeline promotes it; at start the acknowledged ones move to the inbox.
   */
  get slots(): string {
    return join(this.dir, 'slots');
  }

  /** Acknowledged, not yet routed. */
  get inbox(): string {
    return join(this.dir, 'inbox');
  }

  /** An acknowledged object in the inbox. */
  inboxObject(id: string): string {
    return join(this.inbox, `${id}.dcm`);
  }

  /** A tagged copy of an inbox object (deflated datasets, which cannot be edited in parts). */
  taggedCopy(id: string): string {
    return join(this.inbox, `${id}.tagged.dcm`);
  }

  /** The pipeline's failed attempts on an inbox object, by stage (survive a restart). */
  attempts(id: string): string {
    return join(this.inbox, `${id}.attempts`);
  }

  /** Routed, waiting for their destinations. */
  get store(): string {
    return join(this.dir, 'store');
  }

  /** Per-destination delivery journals. */
  get queue(): string {
    return join(this.dir, 'queue');
  }

  journal(destination: string): string {
    return join(this.queue, `${destination}.journal`);
  }

  /** Objects a destination would not take, with <id>.json saying why. */
  get dead(): string {
    return join(this.dir, 'dead');
  }

  deadFor(destination: string): string {
    return join(this.dead, destination);
  }

  /** Dead letters `bodyroute requeue` handed back; the running router takes them in. */
  get requeue(): string {
    return join(this.dir, 'requeue');
  }

  requeueFor(destination: string): string {
    return join(this.requeue, destination);
  }

  /** Destinations an operator paused (a JSON list of names): kept across restarts. */
  get paused(): string {
    return join(this.dir, 'paused.json');
  }

  /** Label corrections operators made on the status page (CSV, appended). */
  get corrections(): string {
    return join(this.dir, 'corrections.csv');
  }

  /** Objects kept aside with a reason: `quarantine` (cannot be handled) or `unrouted` (no rule matched). */
  aside(folder: AsideFolder): string {
    return join(this.dir, folder);
  }
}

/** Where an object the pipeline cannot hand to a destination is kept, with <id>.txt saying why. */
export type AsideFolder = 'quarantine' | 'unrouted';
