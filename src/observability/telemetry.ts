/**
 * What the running router reports as it works, as plain data: the metrics (/metrics) and the
 * status page's recent series listen to it. Components get one injected and call it at the
 * moments that matter; the default does nothing, so unit tests and commands need none.
 * Events carry no patient names or IDs; only the recent-series event carries what an operator
 * needs to recognise a series (descriptions and UIDs), and the metrics never use it as a label.
 */
export interface Telemetry {
  associationAccepted(): void;
  associationClosed(): void;
  /** `reason`: one of a few fixed words (called-ae-title, calling-ae-title, peer-address, association-limit). */
  associationRejected(reason: string): void;
  /** An object is durable and acknowledged; `ackSeconds` from its C-STORE-RQ to the success response. */
  objectStored(e: { callingAeTitle: string; bytes: number; ackSeconds: number }): void;
  /** A C-STORE answered with a failure status ("0xA700"). */
  storeFailed(e: { status: string }): void;
  classified(e: ClassifiedEvent): void;
  /** An object was routed (committed for its destinations, or kept in unrouted/). */
  routed(e: RoutedEvent): void;
  delivered(e: { destination: string; latencySeconds: number }): void;
  deliveryFailed(e: { destination: string }): void;
  deadLettered(e: { destination: string }): void;
}

export interface ClassifiedEvent {
  modality: string;
  /** classified (a region), unknown (below the threshold), skipped (not a CT/MR image), error (undecodable). */
  outcome: 'classified' | 'unknown' | 'skipped' | 'error';
  region?: string;
  confidence?: number;
  inferenceSeconds?: number;
}

export interface RoutedEvent {
  at: number;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  callingAeTitle: string;
  modality: string;
  /** As received. */
  seriesDescription: string;
  instanceNumber?: number;
  /** What it was routed as: its own region or its series' regions, `unclassified`, `unknown`. */
  regions: readonly string[];
  /** The image's own region and confidence, when it was classified. */
  imageRegion?: string;
  confidence?: number;
  /** Regions the header (Body Part Examined, descriptions) named, when it named any. */
  headerRegions?: readonly string[];
  destinations: readonly string[];
  /** The classifier's own preprocessed image, 8-bit grayscale, `previewSize` square. */
  preview?: Uint8Array;
  previewSize?: number;
}

const ignore = (): void => undefined;

/** Reports to nobody. */
export const noTelemetry: Telemetry = {
  associationAccepted: ignore,
  associationClosed: ignore,
  associationRejected: ignore,
  objectStored: ignore,
  storeFailed: ignore,
  classified: ignore,
  routed: ignore,
  delivered: ignore,
  deliveryFailed: ignore,
  deadLettered: ignore,
};

/** Reports to each of `sinks`, each told only what it listens to. */
export function telemetryTo(...sinks: Partial<Telemetry>[]): Telemetry {
  const all = {} as Record<keyof Telemetry, (e: never) => void>;
  for (const key of Object.keys(noTelemetry) as (keyof Telemetry)[]) {
    const listeners = sinks.map((s) => s[key]?.bind(s) as ((e: never) => void) | undefined).filter((f) => f !== undefined);
    all[key] = (e: never) => {
      for (const f of listeners) f(e);
    };
  }
  return all as unknown as Telemetry;
}
