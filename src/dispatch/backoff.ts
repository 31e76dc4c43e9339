import { RetryConfig } from '../config/schema';

/** Delay before attempt number `failures` + 1: exponential, capped. Pure, for testability. */
export function backoffDelay(retry: Pick<RetryConfig, 'initialDelayMs' | 'maxDelayMs' | 'factor'>, failures: number): number {
  if (failures <= 0) return 0;
  const delay = retry.initialDelayMs * Math.pow(retry.factor, failures - 1);
  return Math.min(retry.maxDelayMs, Math.round(delay));
}
