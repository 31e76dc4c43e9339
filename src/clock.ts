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
