/**
 * bodyroute's error catalogue. Each error has a stable code (documented in
 * docs/architecture.md) and says whether trying again can help.
 */
export type ErrorCode =
  | 'SPOOL_FULL'
  | 'SPOOL_IO'
  | 'SPOOL_LOCKED'
  | 'TAG_IMPOSSIBLE'
  | 'LISTEN_FAILED'
  | 'OBJECT_TOO_LARGE'
  | 'OBJECT_MALFORMED'
  | 'OBJECT_TRUNCATED'
  | 'UID_INVALID'
  | 'DEST_UNREACHABLE'
  | 'DEST_REJECTED_ASSOCIATION'
  | 'DEST_NO_CONTEXT'
  | 'TRANSCODE_FAILED'
  | 'DEST_STATUS_RETRYABLE'
  | 'DEST_STATUS_FATAL'
  | 'DEST_PROTOCOL'
  | 'DEST_TIMEOUT'
  | 'DEST_IO';

export class BodyrouteError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    /** DIMSE status to answer (ingest) or that was received (dispatch), where one applies. */
    readonly dimseStatus?: number,
  ) {
    super(message);
    this.name = 'BodyrouteError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
