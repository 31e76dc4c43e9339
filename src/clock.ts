/**
 * Time as the orchestration sees it: injected, so unit tests drive backoff, idle release and
 * timeouts with a fake clock instead of waiting for real time.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    // a pending retry or backoff alone does not keep the process alive
    const timer = setTimeout(fn, ms).unref();
    return () => clearTimeout(timer);
  },
};

/**
 * Fires `onIdle` once nothing touched it for `ms` (a protocol's idle timer): a touch only reads the
 * clock; the one pending timer, when it comes, checks how long it really has been and waits again
 * for the rest if something touched it meanwhile.
 */
export class IdleTimer {
  private last: number;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.last = clock.now();
    this.arm(ms);
  }

  touch(): void {
    this.last = this.clock.now();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  private arm(ms: number): void {
    this.cancel = this.clock.setTimer(ms, () => {
      const idle = this.clock.now() - this.last;
      if (idle >= this.ms) {
        this.cancel = undefined;
        this.onIdle();
      } else this.arm(this.ms - idle);
    });
  }
}
