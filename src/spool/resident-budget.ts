/**
 * How many bytes of received datasets the spool keeps in memory after acknowledging them, so that
 * sending an object does not read back from disk what was written a few milliseconds before (an
 * open, reads and a close per object). The file stays the durable copy; the memory is a shortcut for
 * objects that move through quickly. Past the limit, objects are read from their files as usual, so a
 * backlog (a destination down, a long series held) costs no more memory than the limit.
 */
export class ResidentBudget {
  private used = 0;
  private readonly held = new Map<string, { bytes: number; token: object }>();
  /**
   * Releases what a path that forgot to call release() took, once the bytes are garbage: a missed
   * release can then shrink the budget only until the next collection, never for good.
   */
  private readonly collected = new FinalizationRegistry<string>((id) => this.release(id));

  constructor(readonly limitBytes: number) {}

  /** Keeps `dataset` for object `id` when the budget has room for it; returns what may be used. */
  admit(id: string, dataset: Buffer | undefined): Buffer | undefined {
    if (!dataset || this.held.has(id) || this.used + dataset.length > this.limitBytes) return undefined;
    const token = {};
    this.held.set(id, { bytes: dataset.length, token });
    this.used += dataset.length;
    this.collected.register(dataset, id, token);
    return dataset;
  }

  /** The object left the spool (delivered everywhere, set aside) or its bytes are no longer its file's. */
  release(id: string): void {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    this.used -= h.bytes;
    this.collected.unregister(h.token);
  }

  get usedBytes(): number {
    return this.used;
  }
}
