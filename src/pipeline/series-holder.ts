import { Clock, systemClock } from '../clock';
import { Received } from './lifecycle';

/**
 * Holds the images of each series until none has arrived for `stableMs`, then hands the whole
 * series on. The held images stay in the spool inbox, so after a restart they are classified and
 * held again: nothing is lost or doubled.
 */
export class SeriesHolder<T extends Received> {
  private readonly series = new Map<string, { members: T[]; cancel: () => void }>();

  constructor(
    private readonly stableMs: number,
    private readonly onStable: (members: T[]) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Series Instance UIDs are globally unique; an object without one is a series of its own. */
  static keyOf(r: Received): string {
    return r.object.seriesInstanceUid ? `series|${r.object.seriesInstanceUid}` : `object|${r.object.id}`;
  }

  add(item: T): void {
    const key = SeriesHolder.keyOf(item);
    const entry = this.series.get(key);
    entry?.cancel();
    const members = entry?.members ?? [];
    if (!members.some((m) => m.object.id === item.object.id)) members.push(item);
    const cancel = this.clock.setTimer(this.stableMs, () => {
      this.series.delete(key);
      this.onStable(members);
    });
    this.series.set(key, { members, cancel });
  }

  get heldSeries(): number {
    return this.series.size;
  }

  /** Images held, in all series. */
  get heldImages(): number {
    let n = 0;
    for (const { members } of this.series.values()) n += members.length;
    return n;
  }

  /** Stops the timers; held objects stay in the inbox for the next start. */
  stop(): void {
    for (const { cancel } of this.series.values()) cancel();
    this.series.clear();
  }
}
