import { Logger } from './logger';

/**
 * A periodic "stats" log line (logging.statsIntervalSeconds): memory and backlog at a glance,
 * so a slow destination, a growing backlog or a leak shows in the log without any other tool.
 */
export function startStatsLog(log: Logger, intervalMs: number, backlog: () => Record<string, number>): () => void {
  if (intervalMs <= 0) return () => undefined;
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    log.info('stats', { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external + m.arrayBuffers), ...backlog() });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
