/**
 * Coalesces fsync requests: callers that arrive while a sync runs share the next one,
 * so N concurrent objects cost two syncs, not N (group commit).
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly doSync: () => Promise<void>) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.doSync().finally(() => (this.running = undefined));
      return this.running;
    }
    if (!this.next) {
      const current = this.running;
      this.next = current
        .catch(() => undefined)
        .then(() => {
          this.next = undefined;
          return this.sync();
        });
    }
    return this.next;
  }
}
