import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ClassifiedEvent, Telemetry } from './telemetry';

/** What the metrics read at scrape time from the running router. */
export interface MetricsSources {
  associationsActive(): number;
  destinations(): readonly { name: string; state: string; queued: number; oldestReceivedAt?: number }[];
  spoolFreeBytes(): number | undefined;
  now?(): number;
}

/** Label values a peer chooses (calling AE titles) are capped, so a hostile peer cannot grow the series without bound. */
const MAX_CALLING_AE_LABELS = 100;
const DESTINATION_STATES = ['up', 'down', 'paused'] as const;

/**
 * bodyroute's Prometheus metrics (docs/operations.md lists them): counters and histograms fed by
 * telemetry events, gauges read from the router when scraped, and Node's process metrics. Labels
 * hold calling AE titles, destination names, modalities, regions, statuses and fixed reason
 * words — never a UID, a name or a description.
 */
export class Metrics implements Partial<Telemetry> {
  readonly registry = new Registry();
  private readonly callingAeTitles = new Set<string>();

  private readonly received = new Counter({
    name: 'bodyroute_objects_received_total',
    help: 'Objects acknowledged (stored durably), by calling AE title',
    labelNames: ['calling_ae'] as const,
    registers: [this.registry],
  });
  private readonly receivedBytes = new Counter({
    name: 'bodyroute_received_bytes_total',
    help: 'Dataset bytes of acknowledged objects, by calling AE title',
    labelNames: ['calling_ae'] as const,
    registers: [this.registry],
  });
  private readonly ackLatency = new Histogram({
    name: 'bodyroute_acknowledge_latency_seconds',
    help: 'From a C-STORE request to its success response (receive, fsync, rename)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly storeFailures = new Counter({
    name: 'bodyroute_store_failures_total',
    help: 'C-STOREs answered with a failure status, by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly associations = new Counter({ name: 'bodyroute_associations_total', help: 'Associations accepted', registers: [this.registry] });
  private readonly associationsRejected = new Counter({
    name: 'bodyroute_associations_rejected_total',
    help: 'Associations rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly classifications = new Counter({
    name: 'bodyroute_classifications_total',
    help: "Images classified, by modality and region ('unknown' below the threshold)",
    labelNames: ['modality', 'region'] as const,
    registers: [this.registry],
  });
  private readonly notClassified = new Counter({
    name: 'bodyroute_objects_not_classified_total',
    help: 'Objects not classified: skipped (not a CT/MR image) or error (undecodable)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly confidence = new Histogram({
    name: 'bodyroute_classification_confidence',
    help: "The classifier's confidence in the region it chose",
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
    registers: [this.registry],
  });
  private readonly inference = new Histogram({
    name: 'bodyroute_inference_seconds',
    help: 'Decode, preprocessing and model run per image',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly routedTotal = new Counter({
    name: 'bodyroute_objects_routed_total',
    help: 'Objects routed: committed for destinations, or unrouted',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly deliveryLatency = new Histogram({
    name: 'bodyroute_delivery_latency_seconds',
    help: 'From receiving an object to its delivery, by destination',
    labelNames: ['destination'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [this.registry],
  });
  private readonly deliveredTotal = new Counter({
    name: 'bodyroute_destination_delivered_total',
    help: 'Objects delivered, by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  private readonly failedAttempts = new Counter({
    name: 'bodyroute_destination_failed_attempts_total',
    help: 'Failed delivery attempts of objects (not counting a destination being down), by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  private readonly deadLetters = new Counter({
    name: 'bodyroute_destination_dead_letters_total',
    help: 'Objects dead-lettered, by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bodyroute_' });
    const now = () => sources.now?.() ?? Date.now();
    new Gauge({
      name: 'bodyroute_associations_active',
      help: 'Associations open now',
      registers: [this.registry],
      collect() {
        this.set(sources.associationsActive());
      },
    });
    new Gauge({
      name: 'bodyroute_destination_queue_depth',
      help: 'Objects waiting for a destination',
      labelNames: ['destination'] as const,
      registers: [this.registry],
      collect() {
        for (const d of sources.destinations()) this.set({ destination: d.name }, d.queued);
      },
    });
    new Gauge({
      name: 'bodyroute_destination_oldest_pending_seconds',
      help: 'Age of the oldest object waiting for a destination (0 when none waits)',
      labelNames: ['destination'] as const,
      registers: [this.registry],
      collect() {
        for (const d of sources.destinations())
          this.set({ destination: d.name }, d.oldestReceivedAt === undefined ? 0 : Math.max(0, now() - d.oldestReceivedAt) / 1000);
      },
    });
    new Gauge({
      name: 'bodyroute_destination_state',
      help: 'A destination is up (sending or idle), down (unreachable) or paused by an operator: 1 for its state, 0 for the others',
      labelNames: ['destination', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const d of sources.destinations()) for (const s of DESTINATION_STATES) this.set({ destination: d.name, state: s }, d.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bodyroute_spool_free_bytes',
      help: "Free bytes on the spool's filesystem",
      registers: [this.registry],
      collect() {
        const free = sources.spoolFreeBytes();
        if (free !== undefined) this.set(free);
      },
    });
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  associationAccepted(): void {
    this.associations.inc();
  }

  associationRejected(reason: string): void {
    this.associationsRejected.inc({ reason });
  }

  objectStored(e: { callingAeTitle: string; bytes: number; ackSeconds: number }): void {
    const calling_ae = this.callingAeLabel(e.callingAeTitle);
    this.received.inc({ calling_ae });
    this.receivedBytes.inc({ calling_ae }, e.bytes);
    this.ackLatency.observe(e.ackSeconds);
  }

  storeFailed(e: { status: string }): void {
    this.storeFailures.inc({ status: e.status });
  }

  classified(e: ClassifiedEvent): void {
    if (e.outcome === 'skipped' || e.outcome === 'error') {
      this.notClassified.inc({ reason: e.outcome });
      return;
    }
    this.classifications.inc({ modality: modalityLabel(e.modality), region: e.outcome === 'unknown' ? 'unknown' : (e.region ?? 'unknown') });
    if (e.confidence !== undefined) this.confidence.observe(e.confidence);
    if (e.inferenceSeconds !== undefined) this.inference.observe(e.inferenceSeconds);
  }

  routed(e: { destinations: readonly string[] }): void {
    this.routedTotal.inc({ outcome: e.destinations.length ? 'committed' : 'unrouted' });
  }

  delivered(e: { destination: string; latencySeconds: number }): void {
    this.deliveredTotal.inc({ destination: e.destination });
    this.deliveryLatency.observe({ destination: e.destination }, e.latencySeconds);
  }

  deliveryFailed(e: { destination: string }): void {
    this.failedAttempts.inc({ destination: e.destination });
  }

  deadLettered(e: { destination: string }): void {
    this.deadLetters.inc({ destination: e.destination });
  }

  private callingAeLabel(title: string): string {
    if (this.callingAeTitles.has(title)) return title;
    if (this.callingAeTitles.size >= MAX_CALLING_AE_LABELS) return 'other';
    this.callingAeTitles.add(title);
    return title;
  }
}

/** Modality as a bounded label: the two bodyroute classifies, the rest together. */
function modalityLabel(modality: string): string {
  const m = modality.toUpperCase();
  return m === 'CT' || m === 'MR' ? m : m === 'MRI' ? 'MR' : 'other';
}
