import { Clock, systemClock } from '../clock';
import { RetryConfig } from '../config/schema';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { noTelemetry, Telemetry } from '../observability/telemetry';
import { Spool } from '../spool/spool';
import { backoffDelay } from './backoff';
import { DeadLetterBox } from './dead-letter';
import { DeliveryItem } from './delivery-item';
import { Sender } from './sender';
import { DeliveryJournal } from './delivery-journal';

interface Pending {
  item: DeliveryItem;
  attempts: number;
  nextAttemptAt: number;
  /** Being sent by one of the lanes. */
  sending: boolean;
}

/** One worker of a destination with its own sender (its own association). */
interface Lane {
  sender: Sender;
  done: Promise<void>;
  idleSince: number | undefined;
  released: boolean;
}

export interface DestinationQueueOptions {
  name: string;
  /** One sender per lane: objects of this destination travel over this many associations at once. */
  senders: Sender[];
  journal: DeliveryJournal;
  deadLetters: DeadLetterBox;
  retry: RetryConfig;
  /** Release the sender's connection after this long with nothing to send. */
  idleReleaseMs: number;
  log: Logger;
  /** Called once the object is delivered or dead-lettered for this destination. */
  onSettled(id: string): void;
  clock?: Clock;
  telemetry?: Telemetry;
}

/** up: sending (or idle); down: unreachable, waiting to try again; paused: an operator stopped it. */
export type DestinationState = 'up' | 'down' | 'paused';

/** What the status page and the metrics show of one destination. */
export interface DestinationStatus {
  name: string;
  state: DestinationState;
  queued: number;
  /** When the oldest object still queued here was received (ms since the epoch). */
  oldestReceivedAt?: number;
  /** Since the start of this process. */
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
  lastError?: { code: string; status?: string; message: string; at: number };
}

const UPCOMING_WINDOW = 64;

/**
 * One destination's queue and its workers (lanes, one association each). Objects go in arrival
 * order; an object that fails is rescheduled with backoff and the ones behind it go on; an
 * unreachable destination is retried as a whole, without using up the objects' attempts.
 */
export class DestinationQueue {
  private readonly pending: Pending[] = [];
  private readonly ids = new Set<string>();
  private running = false;
  private lanes: Lane[];
  private readonly wakers = new Set<() => void>();
  private downFailures = 0;
  private downUntil = 0;
  private paused = false;
  private readonly counts = { delivered: 0, failedAttempts: 0, deadLettered: 0 };
  private lastError: DestinationStatus['lastError'];
  private readonly telemetry: Telemetry;

  private readonly clock: Clock;

  constructor(private o: DestinationQueueOptions) {
    this.clock = o.clock ?? systemClock;
    this.telemetry = o.telemetry ?? noTelemetry;
    this.lanes = o.senders.map((sender) => ({ sender, done: Promise.resolve(), idleSince: undefined, released: true }));
  }

  get name(): string {
    return this.o.name;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Stops sending (objects keep queueing) until resume(); the lanes finish what they are sending. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.downUntil = 0;
    this.wakeAll();
  }

  status(): DestinationStatus {
    let oldest: number | undefined;
    for (const p of this.pending) {
      const at = Spool.receivedAt(p.item.id);
      if (oldest === undefined || at < oldest) oldest = at;
    }
    const now = this.clock.now();
    return {
      name: this.o.name,
      state: this.paused ? 'paused' : this.downUntil > now || this.downFailures > 0 ? 'down' : 'up',
      queued: this.pending.length,
      oldestReceivedAt: oldest,
      ...this.counts,
      lastError: this.lastError,
    };
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Queues an object; `attempts` is how often it already failed here (from the journal, after a restart). */
  add(item: DeliveryItem, attempts = 0): void {
    if (this.ids.has(item.id)) return;
    this.ids.add(item.id);
    this.pending.push({ item, attempts, nextAttemptAt: 0, sending: false });
    this.wakeAll();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const lane of this.lanes) {
      lane.done = this.loop(lane).catch((err) => {
        this.o.log.error('destination worker stopped unexpectedly', { destination: this.o.name, reason: errorMessage(err) });
      });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeAll();
    await Promise.all(this.lanes.map((l) => l.done));
    await Promise.all(this.lanes.map((l) => l.sender.close()));
  }

  /**
   * New settings (SIGHUP): each lane finishes the object it is sending, its association is
   * released, then the lanes start again with the new senders. Nothing queued is dropped, and a
   * destination that was down gets a fresh try at its new address.
   */
  async reconfigure(next: Pick<DestinationQueueOptions, 'senders' | 'idleReleaseMs' | 'retry'>): Promise<void> {
    const wasRunning = this.running;
    await this.stop();
    this.o = { ...this.o, ...next };
    this.lanes = next.senders.map((sender) => ({ sender, done: Promise.resolve(), idleSince: undefined, released: true }));
    this.downFailures = 0;
    this.downUntil = 0;
    if (wasRunning) this.start();
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        this.wakers.delete(done);
        resolve();
      };
      const cancel = this.clock.setTimer(Math.max(0, ms), done);
      this.wakers.add(done);
    });
  }

  private async loop(lane: Lane): Promise<void> {
    while (this.running) {
      const now = this.clock.now();
      if (this.paused) {
        // nothing is sent: the association goes, and the lane sleeps until resume() (or an add) wakes it
        if (!lane.released) {
          lane.released = true;
          await lane.sender.idle().catch(() => undefined);
        }
        await this.sleep(60000);
        continue;
      }
      if (this.downUntil > now) {
        await this.sleep(this.downUntil - now);
        continue;
      }
      const index = this.pending.findIndex((p) => !p.sending && p.nextAttemptAt <= now);
      if (index < 0) {
        await this.waitIdle(lane, now);
        continue;
      }
      lane.idleSince = undefined;
      lane.released = false;
      await this.attempt(lane, index);
    }
  }

  private async waitIdle(lane: Lane, now: number): Promise<void> {
    lane.idleSince ??= now;
    const idleFor = now - lane.idleSince;
    if (!lane.released && idleFor >= this.o.idleReleaseMs) {
      lane.released = true;
      await lane.sender.idle().catch(() => undefined);
      return;
    }
    const nextDue = this.pending.reduce((m, p) => (p.sending ? m : Math.min(m, p.nextAttemptAt)), Number.POSITIVE_INFINITY);
    const untilRelease = lane.released ? Number.POSITIVE_INFINITY : this.o.idleReleaseMs - idleFor;
    const wait = Math.min(nextDue - now, untilRelease, 60000);
    await this.sleep(wait);
  }

  private async attempt(lane: Lane, index: number): Promise<void> {
    const p = this.pending[index];
    p.sending = true;
    // the next few not in another lane's hands, without copying a long backlog on every attempt
    const upcoming: DeliveryItem[] = [];
    for (let i = index + 1; i < this.pending.length && upcoming.length < UPCOMING_WINDOW; i++) {
      if (!this.pending[i].sending) upcoming.push(this.pending[i].item);
    }
    try {
      await lane.sender.send(p.item, upcoming);
    } catch (err) {
      p.sending = false;
      await this.failed(lane, p, err);
      return;
    }
    if (this.downFailures > 0) this.o.log.info('destination available again', { destination: this.o.name });
    this.downFailures = 0;
    this.remove(p);
    const latencyMs = this.clock.now() - Spool.receivedAt(p.item.id);
    this.counts.delivered++;
    this.telemetry.delivered({ destination: this.o.name, latencySeconds: Math.max(0, latencyMs) / 1000 });
    this.o.log.debug('delivered', { destination: this.o.name, id: p.item.id, sopInstanceUid: p.item.sopInstanceUid, latencyMs });
    await this.o.journal.delivered(p.item.id);
    await this.o.journal.truncateIfIdle(this.pending.length);
    this.o.onSettled(p.item.id);
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
    this.ids.delete(p.item.id);
  }

  private async failed(lane: Lane, p: Pending, err: unknown): Promise<void> {
    const e = err instanceof BodyrouteError ? err : new BodyrouteError('DEST_IO', errorMessage(err), true);
    const now = this.clock.now();
    this.lastError = { code: e.code, status: e.peerStatus, message: e.message, at: now };
    // a failure that says nothing about the object: the destination itself is unavailable
    if (e.scope === 'destination') {
      this.downFailures++;
      const delay = backoffDelay(this.o.retry, this.downFailures);
      this.downUntil = now + delay;
      this.o.log.warn('destination unavailable; objects stay queued', {
        destination: this.o.name,
        peer: lane.sender.description,
        queued: this.pending.length,
        retryInMs: delay,
        code: e.code,
        reason: e.message,
      });
      return;
    }
    p.attempts++;
    this.counts.failedAttempts++;
    this.telemetry.deliveryFailed({ destination: this.o.name });
    if (!e.retryable || p.attempts >= this.o.retry.maxAttempts) {
      this.remove(p);
      const record = await this.o.deadLetters.put(this.o.name, p.item, e, p.attempts);
      await this.o.journal.deadLettered(p.item.id);
      this.counts.deadLettered++;
      this.telemetry.deadLettered({ destination: this.o.name });
      this.o.log.error('object dead-lettered', {
        destination: this.o.name,
        id: p.item.id,
        sopInstanceUid: p.item.sopInstanceUid,
        attempts: p.attempts,
        code: record.code,
        status: record.status,
        reason: record.reason,
      });
      this.o.onSettled(p.item.id);
      return;
    }
    await this.o.journal.attempted(p.item.id, p.attempts);
    const delay = backoffDelay(this.o.retry, p.attempts);
    p.nextAttemptAt = now + delay;
    // Behind everything else, so one failing object never holds up the rest.
    this.pending.splice(this.pending.indexOf(p), 1);
    this.pending.push(p);
    this.o.log.warn('delivery failed; will retry', {
      destination: this.o.name,
      id: p.item.id,
      sopInstanceUid: p.item.sopInstanceUid,
      attempt: p.attempts,
      retryInMs: delay,
      code: e.code,
      status: e.peerStatus,
      reason: e.message,
    });
  }
}
