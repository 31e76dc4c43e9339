import { Clock } from '../clock';

/**
 * Files kept ready for a few seconds and no longer (SpareFiles, SlotFiles): each is disposed of (`expire`)
 * once it has waited keepMs unused, and all of them at close(). Oldest first; taken from either end.
 */
export class KeptBriefly<T extends { bytes: number }> {
  private readonly items: { item: T; since: number }[] = [];
  private cancelSweep: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly keepMs: number,
    private readonly expire: (item: T) => Promise<void>,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Disk space the items hold. */
  get bytes(): number {
    return this.items.reduce((sum, k) => sum + k.item.bytes, 0);
  }

  /** Keeps `item` from now on (disposes of it at once after close()). */
  add(item: T): void {
    if (this.closed) {
      void this.expire(item);
      return;
    }
    this.items.push({ item, since: this.clock.now() });
    this.cancelSweep ??= this.clock.setTimer(this.keepMs, () => void this.sweep());
  }

  /** The item kept last (the caller owns it from now on). */
  takeNewest(): T | undefined {
    return this.items.pop()?.item;
  }

  /** The item kept first (the caller owns it from now on). */
  takeOldest(): T | undefined {
    return this.items.shift()?.item;
  }

  /** Disposes of every item and keeps none from now on. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelSweep?.();
    this.cancelSweep = undefined;
    await Promise.all(this.items.splice(0).map((k) => this.expire(k.item)));
  }

  /** Disposes of the items older than keepMs (the oldest are first) and looks again when the next would be. */
  private async sweep(): Promise<void> {
    this.cancelSweep = undefined;
    const cutoff = this.clock.now() - this.keepMs;
    let stale = 0;
    while (stale < this.items.length && this.items[stale].since <= cutoff) stale++;
    await Promise.all(this.items.splice(0, stale).map((k) => this.expire(k.item)));
    if (this.items.length && !this.closed) {
      this.cancelSweep = this.clock.setTimer(this.items[0].since + this.keepMs - this.clock.now(), () => void this.sweep());
    }
  }
}
