import { SpooledObject } from '../spool/spooled-object';

/**
 * Holds the images of each series until none has arrived for `stableMs`, then hands the whole
 * series on. The held images stay in the spool inbox, so after a restart they are classified and
 * held again: nothing is lost or doubled.
 */
export class SeriesHolder {
  private readonly series = new Map<string, { objects: SpooledObject[]; timer: NodeJS.Timeout }>();

  constructor(
    private readonly stableMs: number,
    private readonly onStable: (objects: SpooledObject[]) => void,
  ) {}

  /** Series Instance UIDs are globally unique; an object without one is a series of its own. */
  static keyOf(obj: SpooledObject): string {
    return obj.seriesInstanceUid ? `series|${obj.seriesInstanceUid}` : `object|${obj.id}`;
  }

  add(obj: SpooledObject): void {
    const key = SeriesHolder.keyOf(obj);
    const entry = this.series.get(key);
    if (entry) clearTimeout(entry.timer);
    const objects = entry?.objects ?? [];
    if (!objects.some((o) => o.id === obj.id)) objects.push(obj);
    const timer = setTimeout(() => {
      this.series.delete(key);
      this.onStable(objects);
    }, this.stableMs);
    this.series.set(key, { objects, timer });
  }

  get heldSeries(): number {
    return this.series.size;
  }

  /** Stops the timers; held objects stay in the inbox for the next start. */
  stop(): void {
    for (const { timer } of this.series.values()) clearTimeout(timer);
    this.series.clear();
  }
}
