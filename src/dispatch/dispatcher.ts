import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../config/schema';
import { errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { Spool } from '../spool/spool';
import { SpooledObject } from '../spool/spooled-object';
import { DeadLetterBox } from './dead-letter';
import { DeliveryItem, deliveryItem, Sender } from './delivery-item';
import { DeliveryJournal } from './delivery-journal';
import { DestinationQueue } from './destination-queue';
import { DimseSender } from './dimse-sender';
import { FolderSender } from './folder-sender';

const REQUEUE_POLL_MS = 2000;

/**
 * Owns one queue per destination and the lifetime of stored objects: a stored file is
 * removed once every destination it was routed to has delivered or dead-lettered it.
 */
export class Dispatcher {
  private readonly queues = new Map<string, DestinationQueue>();
  private readonly journals = new Map<string, DeliveryJournal>();
  /** id → destinations still to settle. */
  private readonly outstanding = new Map<string, number>();
  private recovered = new Map<string, string[]>();
  private requeueTimer: NodeJS.Timeout | undefined;
  private requeueBusy = false;

  constructor(
    private readonly cfg: Config,
    private readonly spool: Spool,
    private readonly log: Logger,
  ) {}

  private makeSender(d: Config['destinations'][number]): Sender {
    return d.type === 'folder' ? new FolderSender(d) : new DimseSender(d, this.cfg.listen.aeTitle, this.log.child({ component: `dispatch:${d.name}` }));
  }

  /** Opens the journals; remembers which stored objects are still pending where. */
  async init(): Promise<void> {
    const queueDir = join(this.spool.dir, 'queue');
    await fsp.mkdir(queueDir, { recursive: true, mode: 0o700 });
    const deadLetters = new DeadLetterBox(join(this.spool.dir, 'dead'));
    for (const d of this.cfg.destinations) {
      const journal = new DeliveryJournal(join(queueDir, `${d.name}.journal`));
      for (const id of await journal.open()) {
        const list = this.recovered.get(id) ?? [];
        list.push(d.name);
        this.recovered.set(id, list);
      }
      this.journals.set(d.name, journal);
      const queue = new DestinationQueue({
        name: d.name,
        senders: Array.from({ length: d.type === 'dimse' ? d.associations : 1 }, () => this.makeSender(d)),
        journal,
        deadLetters,
        retry: this.cfg.retry,
        idleReleaseMs: d.type === 'dimse' ? d.idleReleaseMs : 0,
        log: this.log.child({ component: `dispatch:${d.name}` }),
        onSettled: (id) => this.settled(id),
      });
      this.queues.set(d.name, queue);
    }
  }

  /** Objects waiting for each destination. */
  queued(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([name, q]) => [name, q.size]));
  }

  /** Requeues stored objects whose deliveries were pending when the process stopped. */
  async recoverStored(): Promise<void> {
    const ids = await this.spool.listIds(this.spool.storeDir);
    let requeued = 0;
    let orphans = 0;
    for (const id of ids) {
      const dests = this.recovered.get(id);
      this.recovered.delete(id);
      if (!dests) {
        // Every delivery finished before the file could be removed.
        await this.spool.removeStored(id);
        orphans++;
        continue;
      }
      try {
        const obj = await this.spool.load(id, this.spool.storePath(id));
        this.activate(obj, dests);
        requeued++;
      } catch (err) {
        this.log.error('cannot read stored object; its deliveries are abandoned', { id, reason: errorMessage(err) });
      }
    }
    // Pending ids whose stored file is gone are either in the inbox (re-routed next) or lost.
    if (requeued || orphans) this.log.info('recovered pending deliveries', { objects: requeued, alreadyDelivered: orphans });
  }

  /** Journals the deliveries durably. The caller then moves the file to the store and calls activate(). */
  async journal(obj: SpooledObject, destinations: readonly string[]): Promise<void> {
    await Promise.all(destinations.map((d) => this.journalFor(d).enqueue(obj.id)));
  }

  private journalFor(name: string): DeliveryJournal {
    const j = this.journals.get(name);
    if (!j) throw new Error(`unknown destination ${name}`);
    return j;
  }

  activate(obj: DeliveryItem, destinations: readonly string[]): void {
    const queues = destinations.map((d) => this.queues.get(d)).filter((q): q is DestinationQueue => q !== undefined);
    this.outstanding.set(obj.id, (this.outstanding.get(obj.id) ?? 0) + queues.length);
    const item = deliveryItem(obj);
    for (const q of queues) q.add(item);
  }

  private settled(id: string): void {
    const left = (this.outstanding.get(id) ?? 1) - 1;
    if (left > 0) {
      this.outstanding.set(id, left);
      return;
    }
    this.outstanding.delete(id);
    this.spool.removeStored(id).catch((err) => this.log.error('cannot remove delivered object from the store', { id, reason: errorMessage(err) }));
  }

  start(): void {
    for (const q of this.queues.values()) q.start();
    this.requeueTimer = setInterval(() => void this.takeRequeued(), REQUEUE_POLL_MS);
    this.requeueTimer.unref();
    void this.takeRequeued();
  }

  /** Dead letters that `bodyroute requeue` put in <spool>/requeue/<destination>/ go back into that queue. */
  async takeRequeued(): Promise<number> {
    if (this.requeueBusy) return 0;
    this.requeueBusy = true;
    let taken = 0;
    try {
      const root = join(this.spool.dir, 'requeue');
      const dests = await fsp.readdir(root).catch(() => [] as string[]);
      for (const dest of dests) {
        const queue = this.queues.get(dest);
        if (!queue) continue;
        for (const id of await this.spool.listIds(join(root, dest))) {
          try {
            const path = await this.spool.adopt(id, join(root, dest, `${id}.dcm`));
            const obj = await this.spool.load(id, path);
            await this.journalFor(dest).enqueue(id);
            this.activate(obj, [dest]);
            taken++;
            this.log.info('dead letter requeued', { destination: dest, id, sopInstanceUid: obj.sopInstanceUid });
          } catch (err) {
            this.log.error('cannot requeue dead letter', { destination: dest, id, reason: errorMessage(err) });
          }
        }
      }
    } finally {
      this.requeueBusy = false;
    }
    return taken;
  }

  async stop(): Promise<void> {
    if (this.requeueTimer) clearInterval(this.requeueTimer);
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
    await Promise.all([...this.journals.values()].map((j) => j.close()));
  }
}
