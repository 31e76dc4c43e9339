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

/**
 * What an error is about: the object (send it again later, or dead-letter it) or the destination
 * as a whole (it is down: wait without spending the objects' attempts). A new destination type
 * reports "down" with a destination-scoped code and needs no list of its own.
 */
export type ErrorScope = 'object' | 'destination';

const DESTINATION_SCOPED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['DEST_UNREACHABLE', 'DEST_REJECTED_ASSOCIATION']);

export class BodyrouteError extends Error {
  /** See ErrorScope; from the code. */
  get scope(): ErrorScope {
    return DESTINATION_SCOPED.has(this.code) ? 'destination' : 'object';
  }

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    /**
     * The status a destination answered, as its protocol writes it ("0xA700" for DIMSE): dead
     * letters and logs record it as is, whatever the destination type. What bodyroute itself
     * answers a sender is decided at the protocol edge from the code (ingest/store-status.ts).
     */
    readonly peerStatus?: string,
  ) {
    super(message);
    this.name = 'BodyrouteError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
