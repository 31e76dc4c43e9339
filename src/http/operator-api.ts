import type { ExecutionProvider } from '../classify/inference-worker';
import type { DeadLetterRecord } from '../dispatch/dead-letter';
import type { DestinationStatus } from '../dispatch/destination-queue';
import type { SeriesView } from '../review/recent-series';

/** A health check's answer: healthy (200) or not (503), with the reasons. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** What the status page shows (GET /api/status). */
export interface StatusSnapshot {
  version: string;
  model?: string;
  /** Where the model runs. */
  classifierProvider?: ExecutionProvider;
  startedAt: number;
  ready: boolean;
  destinations: (DestinationStatus & { type: string })[];
  deadLetters: DeadLetterRecord[];
  deadLettersTotal: number;
  series: SeriesView[];
  counts: { modality: string; region: string; objects: number }[];
  regions: readonly string[];
}

/**
 * Everything the HTTP server asks of the running router: the server knows HTTP, auth and pages;
 * App answers these from the dispatcher, the spool and the recent series.
 */
export interface OperatorApi {
  health(): Promise<HealthReport>;
  readiness(): HealthReport;
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): Promise<StatusSnapshot>;
  thumbnail(seriesInstanceUid: string): Buffer | undefined;
  pause(destination: string): Promise<void>;
  resume(destination: string): Promise<void>;
  /** Requeues dead letters of one destination (or all), one id (or all); returns how many. */
  requeue(destination: string | undefined, id: string | undefined): Promise<number>;
  /** Records an operator's region for a series; returns the rows written. */
  correct(seriesInstanceUid: string, region: string): Promise<number>;
}

/** An operator asked for something that does not exist or cannot be done: 404/400 with the message. */
export class OperatorError extends Error {
  constructor(
    readonly httpStatus: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}
