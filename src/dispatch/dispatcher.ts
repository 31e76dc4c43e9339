import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../clock';
import { Config, DestinationConfig } from '../config/schema';
import { errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { Telemetry } from '../observability/telemetry';
import { PausedDestinations } from './paused-destinations';
import { Spool } from '../spool/spool';
import { decodeEdits, encodeEdits } from '../spool/dataset-edits';
import { SpooledObject } from '../spool/spooled-object';
import { DeadLetterBox } from './dead-letter';
import { DeliveryItem, deliveryItem } from './delivery-item';
import { Sender } from './sender';
import { DeliveryJournal } from './delivery-journal';
import { DestinationQueue, DestinationStatus } from './destination-queue';
import { destinationType } from './destinations/registry';

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
  private readonly deadLetters: DeadLetterBox;
  private started = false;
  private requeueTimer: NodeJS.Timeout | undefined;
  private requeueBusy = false;

  constructor(
    private readonly cfg: Config,
    private readonly spool: Spool,
    private readonly log: Logger,
    /** Test seam: senders (and time) other than the destination types' own. */
    private readonly seams: { makeSender?: (d: DestinationConfig) => Sender; clock?: Clock } = {},
    private readonly telemetry?: Telemetry,
  ) {
    this.deadLetters = new DeadLetterBox(spool.layout.dead);
    this.paused = new PausedDestinations(spool.layout.paused);
  }

  private readonly paused: PausedDestinations;

  /** Each destination's state, queue and counts (status page, metrics). */
  statuses(): DestinationStatus[] {
    return [...this.queues.values()].map((q) => q.status());
  }

  /** An operator pauses a destination: it keeps queueing and sends nothing, also after a restart. */
  async pause(name: string): Promise<void> {
    this.applyPaused(await this.paused.set(this.known(name), true));
    this.log.warn('destination paused by an operator', { destination: name });
  }

  async resume(name: string): Promise<void> {
    this.applyPaused(await this.paused.set(this.known(name), false));
    this.log.info('destination resumed by an operator', { destination: name });
  }

  private known(name: string): string {
    if (!this.queues.has(name)) throw new Error(`no destination named "${name}"`);
    return name;
  }

  private applyPaused(names: ReadonlySet<string>): void {
    for (const [name, q] of this.queues) {
      if (names.has(name)) q.pause();
      else q.resume();
    }
  }

  /** `bodyroute destination pause|resume` changed the file: follow it. */
  private async followPausedFile(): Promise<void> {
    const names = await this.paused.readIfChanged();
    if (names) this.applyPaused(names);
  }

  private makeSender(d: DestinationConfig): Sender {
    if (this.seams.makeSender) return this.seams.makeSender(d);
    return destinationType(d).createSender(d, { callingAeTitle: this.cfg.listen.aeTitle, log: this.log.child({ component: `dispatch:${d.name}` }) });
  }

  /** One sender per lane (association) of the destination. */
  private makeSenders(d: DestinationConfig): Sender[] {
    return Array.from({ length: destinationType(d).lanes(d) }, () => this.makeSender(d));
  }

  /** Opens the journals; remembers which stored objects are still pending where. */
  async init(): Promise<void> {
    await fsp.mkdir(this.spool.layout.queue, { recursive: true, mode: 0o700 });
    for (const d of this.cfg.destinations) {
      for (const id of await this.addDestination(d, this.makeSenders(d))) {
        const list = this.recovered.get(id) ?? [];
        list.push(d.name);
        this.recovered.set(id, list);
      }
    }
  }

  /** Opens the destination's journal and makes its queue; returns the ids its journal still holds. */
  private async addDestination(d: DestinationConfig, senders: Sender[]): Promise<string[]> {
    const journal = new DeliveryJournal(this.spool.layout.journal(d.name));
    const pending = await journal.open();
    this.journals.set(d.name, journal);
    const queue = new DestinationQueue({
      name: d.name,
      senders,
      journal,
      deadLetters: this.deadLetters,
      retry: this.cfg.retry,
      idleReleaseMs: destinationType(d).idleReleaseMs(d),
      log: this.log.child({ component: `dispatch:${d.name}` }),
      onSettled: (id) => this.settled(id),
      clock: this.seams.clock,
      telemetry: this.telemetry,
    });
    this.queues.set(d.name, queue);
    return pending;
  }

  /**
   * SIGHUP: destinations whose settings changed get new senders once their current sends finish,
   * new ones start, and new retry settings apply to every queue; nothing queued is dropped. A
   * destination gone from the file gets no new objects (the routes cannot name it) and keeps
   * delivering what it holds until the restart. Returns what changed, for the reload log line.
   */
  async reconfigure(destinations: DestinationConfig[], retry: Config['retry']): Promise<{ applied: string[]; removed: string[] }> {
    const before = new Map(this.cfg.destinations.map((d) => [d.name, d]));
    const retryChanged = JSON.stringify(retry) !== JSON.stringify(this.cfg.retry);
    // build every sender first: a certificate file that cannot be read leaves everything as it was
    const senders = new Map(destinations.filter((d) => JSON.stringify(d) !== JSON.stringify(before.get(d.name))).map((d) => [d.name, this.makeSenders(d)]));
    this.cfg.retry = retry;
    const applied: string[] = [];
    for (const d of destinations) {
      const made = senders.get(d.name);
      const queue = this.queues.get(d.name);
      if (!queue) {
        const pending = await this.addDestination(d, made!);
        // a destination that comes back keeps the pause an operator gave it
        if ((await this.paused.read()).has(d.name)) this.queues.get(d.name)!.pause();
        if (this.started) this.queues.get(d.name)!.start();
        if (pending.length)
          this.log.warn('new destination has an old journal; its entries are left to the next restart', { destination: d.name, entries: pending.length });
        applied.push(`destinations.${d.name} (added)`);
      } else if (made || retryChanged) {
        await queue.reconfigure({ senders: made ?? this.makeSenders(d), idleReleaseMs: destinationType(d).idleReleaseMs(d), retry });
        if (made) applied.push(`destinations.${d.name}`);
      }
    }
    const removed = [...before.keys()].filter((name) => !destinations.some((d) => d.name === name));
    this.cfg.destinations = [...destinations, ...this.cfg.destinations.filter((d) => removed.includes(d.name))];
    return { applied, removed };
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
        const obj = this.withJournalledEdits(await this.spool.load(id, this.spool.storePath(id)), dests);
        this.activate(obj, dests);
        requeued++;
      } catch (err) {
        this.log.error('cannot read stored object; its deliveries are abandoned', { id, reason: errorMessage(err) });
      }
    }
    for (const j of this.journals.values()) j.forgetReplayedEdits();
    // Pending ids whose stored file is gone are either in the inbox (re-routed next) or lost.
    if (requeued || orphans) this.log.info('recovered pending deliveries', { objects: requeued, alreadyDelivered: orphans });
  }

  /**
   * The commit of a routed object, in the one order that loses nothing: its deliveries journalled
   * durably, then the file promoted from the inbox to the store, then handed to the queues. A crash
   * before the promotion re-routes it from the inbox; after it, the journal requeues it.
   */
  async commitRouted(obj: SpooledObject, destinations: readonly string[]): Promise<SpooledObject> {
    await this.journal(obj, destinations);
    const stored = await this.spool.promote(obj);
    this.activate(stored, destinations);
    return stored;
  }

  /** Journals the deliveries durably, with the object's edits (the first step of commitRouted). */
  async journal(obj: SpooledObject, destinations: readonly string[]): Promise<void> {
    const edits = obj.edits && encodeEdits(obj.edits);
    await Promise.all(destinations.map((d) => this.journalFor(d).enqueue(obj.id, edits)));
  }

  /** A recovered object with the edits its journal lines carry (every destination's line has the same). */
  private withJournalledEdits(obj: SpooledObject, destinations: readonly string[]): SpooledObject {
    const texts = destinations.map((d) => this.journals.get(d)?.takeEdits(obj.id));
    const text = texts.find((t) => t !== undefined);
    if (text === undefined) return obj;
    return { ...obj, edits: decodeEdits(text, obj.sizeBytes - obj.datasetOffset, `the journal line of ${obj.id}`) };
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
    for (const q of queues) q.add(item, this.journals.get(q.name)?.attemptsOf(obj.id) ?? 0);
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

  async start(): Promise<void> {
    this.started = true;
    await this.followPausedFile();
    for (const q of this.queues.values()) q.start();
    this.requeueTimer = setInterval(() => void this.poll(), REQUEUE_POLL_MS);
    this.requeueTimer.unref();
    void this.takeRequeued();
  }

  /** What other processes hand the running router through the spool: requeued dead letters, pauses. */
  private async poll(): Promise<void> {
    await this.followPausedFile().catch((err) => this.log.error('cannot read paused destinations', { reason: errorMessage(err) }));
    await this.takeRequeued();
  }

  /** Dead letters that `bodyroute requeue` put in <spool>/requeue/<destination>/ go back into that queue. */
  async takeRequeued(): Promise<number> {
    if (this.requeueBusy) return 0;
    this.requeueBusy = true;
    let taken = 0;
    try {
      const root = this.spool.layout.requeue;
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
