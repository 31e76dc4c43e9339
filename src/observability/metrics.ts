import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ClassifiedEvent, Telemetry } from './telemetry';

/** What the metrics read at scrape time from the running router. */
export interface MetricsSources {
  associationsActive(): number;
  destinations(): readonly { name: string; state: string; queued: number; oldestReceivedAt?: number }[];
  spoolFreeBytes(): number | undefined;
  /** The model in use and where it runs, once the classifier has started (ClassifierInfo). */
  classifier?(): { model: string; provider: string } | undefined;
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

  private readonly received = counter(this.registry, 'bodyroute_objects_received_total', 'Objects acknowledged (stored durably), by calling AE title', [
    'calling_ae',
  ]);
  private readonly receivedBytes = counter(this.registry, 'bodyroute_received_bytes_total', 'Dataset bytes of acknowledged objects, by calling AE title', [
    'calling_ae',
  ]);
  private readonly ackLatency = histogram(
    this.registry,
    'bodyroute_acknowledge_latency_seconds',
    'From a C-STORE request to its success response (receive, fsync, rename)',
    FAST_SECONDS,
  );
  private readonly storeFailures = counter(this.registry, 'bodyroute_store_failures_total', 'C-STOREs answered with a failure status, by status', ['status']);
  private readonly associations = counter(this.registry, 'bodyroute_associations_total', 'Associations accepted');
  private readonly associationsRejected = counter(this.registry, 'bodyroute_associations_rejected_total', 'Associations rejected, by reason', ['reason']);
  private readonly classifications = counter(
    this.registry,
    'bodyroute_classifications_total',
    "Images classified, by modality and region ('unknown' below the threshold)",
    ['modality', 'region'],
  );
  private readonly notClassified = counter(
    this.registry,
    'bodyroute_objects_not_classified_total',
    'Objects not classified: skipped (not a CT/MR image) or error (undecodable)',
    ['reason'],
  );
  private readonly confidence = histogram(
    this.registry,
    'bodyroute_classification_confidence',
    "The classifier's confidence in the region it chose",
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
  );
  private readonly inference = histogram(
    this.registry,
    'bodyroute_inference_seconds',
    'Decode, preprocessing and model run per image',
    FAST_SECONDS.slice(0, 10),
  );
  private readonly routedTotal = counter(this.registry, 'bodyroute_objects_routed_total', 'Objects routed: committed for destinations, or unrouted', [
    'outcome',
  ]);
  private readonly deliveryLatency = histogram(
    this.registry,
    'bodyroute_delivery_latency_seconds',
    'From receiving an object to its delivery, by destination',
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    ['destination'],
  );
  private readonly deliveredTotal = counter(this.registry, 'bodyroute_destination_delivered_total', 'Objects delivered, by destination', ['destination']);
  private readonly failedAttempts = counter(
    this.registry,
    'bodyroute_destination_failed_attempts_total',
    'Failed delivery attempts of objects (not counting a destination being down), by destination',
    ['destination'],
  );
  private readonly deadLetters = counter(this.registry, 'bodyroute_destination_dead_letters_total', 'Objects dead-lettered, by destination', ['destination']);

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bodyroute_' });
    const now = () => sources.now?.() ?? Date.now();
    const r = this.registry;
    gauge(r, 'bodyroute_associations_active', 'Associations open now', [], (g) => g.set(sources.associationsActive()));
    gauge(r, 'bodyroute_destination_queue_depth', 'Objects waiting for a destination', ['destination'], (g) => {
      for (const d of sources.destinations()) g.set({ destination: d.name }, d.queued);
    });
    gauge(r, 'bodyroute_destination_oldest_pending_seconds', 'Age of the oldest object waiting for a destination (0 when none waits)', ['destination'], (g) => {
      for (const d of sources.destinations())
        g.set({ destination: d.name }, d.oldestReceivedAt === undefined ? 0 : Math.max(0, now() - d.oldestReceivedAt) / 1000);
    });
    gauge(
      r,
      'bodyroute_destination_state',
      'A destination is up (sending or idle), down (unreachable) or paused by an operator: 1 for its state, 0 for the others',
      ['destination', 'state'],
      (g) => {
        for (const d of sources.destinations()) for (const st of DESTINATION_STATES) g.set({ destination: d.name, state: st }, d.state === st ? 1 : 0);
      },
    );
    gauge(r, 'bodyroute_spool_free_bytes', "Free bytes on the spool's filesystem", [], (g) => {
      const free = sources.spoolFreeBytes();
      if (free !== undefined) g.set(free);
    });
    gauge(r, 'bodyroute_classifier_info', 'The model in use and the execution provider it runs on (cpu, cuda): always 1', ['model', 'provider'], (g) => {
      const c = sources.classifier?.();
      g.reset();
      if (c) g.set({ model: c.model, provider: c.provider }, 1);
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

const FAST_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(registry: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

/** A gauge read from the router when scraped. */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: (g: Gauge<L>) => void): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      read(this);
    },
  });
}
