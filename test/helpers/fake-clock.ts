import { Clock } from '../../src/clock';

/** A clock that only moves when the test says so; timers fire in time order as it moves. */
export class FakeClock implements Clock {
  private t = Date.UTC(2026, 11, 4);
  private timers: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  /** Timers set and not yet fired or cancelled (a test waits for the code under test to set one). */
  get pending(): number {
    return this.timers.length;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise chains (and the real file I/O behind them) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 2));
}

/** Waits in real time (briefly) until `fn` holds: file I/O of the code under test is real. */
export async function until(what: string, fn: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
