import { constants, promises as fsp } from 'node:fs';
import type { ClassifierInfo } from './classify/classifier';
import type { Config } from './config/schema';
import { requeueDeadLetters } from './dispatch/dead-letter-requeue';
import { listDeadLetters } from './dispatch/dead-letter';
import type { Dispatcher } from './dispatch/dispatcher';
import { destinationType } from './dispatch/destinations/registry';
import { HealthReport, OperatorApi, OperatorError, StatusSnapshot } from './http/operator-api';
import type { Metrics } from './observability/metrics';
import { isRegion, REGION_VOCABULARY } from './regions/region';
import { appendCorrection } from './review/corrections';
import type { RecentSeries } from './review/recent-series';
import type { Spool } from './spool/spool';
import { VERSION } from './version';

/** What the operator API reads of the running router's state, beyond its parts. */
export interface RunningState {
  /** The DICOM listener's port, 0 until it listens. */
  listenerPort(): number;
  /** Spool recovery done and the objects it found in the inbox through the pipeline. */
  recovered(): boolean;
  /** The model in use and where it runs; undefined while loading or when classification is off. */
  classifier(): ClassifierInfo | undefined;
  classifierWanted: boolean;
}

/** Dead letters shown on the page (all are counted). */
const DEAD_LETTERS_SHOWN = 200;

/** The operator API (status page, health, metrics, buttons) answered from the running router's parts. */
export class Operations implements OperatorApi {
  private readonly startedAt = Date.now();

  constructor(
    private readonly cfg: Config,
    private readonly spool: Spool,
    private readonly dispatcher: Dispatcher,
    private readonly recent: RecentSeries,
    private readonly metricsSource: Metrics,
    private readonly state: RunningState,
  ) {}

  /** Spool.freeBytes(); undefined when it cannot be read. */
  spoolFreeBytes(): number | undefined {
    try {
      return this.spool.freeBytes();
    } catch {
      return undefined;
    }
  }

  async health(): Promise<HealthReport> {
    const port = this.state.listenerPort();
    const free = this.spoolFreeBytes();
    const writable = await fsp.access(this.spool.inboxDir, constants.W_OK).then(
      () => ({ ok: true }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    const checks: HealthReport['checks'] = {
      listener: port > 0 ? { ok: true, detail: `port ${port}` } : { ok: false, detail: 'not listening yet' },
      spoolWritable: writable,
      spoolFreeSpace:
        free === undefined
          ? { ok: false, detail: 'cannot read the free space' }
          : { ok: free >= this.cfg.spool.minFreeBytes, detail: `${free} bytes free, spool.minFreeBytes ${this.cfg.spool.minFreeBytes}` },
    };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  readiness(): HealthReport {
    const classifier = this.state.classifier();
    const checks: HealthReport['checks'] = {
      recovery: this.state.recovered() ? { ok: true } : { ok: false, detail: 'objects left by the last run are still being recovered' },
      classifier: !this.state.classifierWanted
        ? { ok: true, detail: 'off' }
        : classifier
          ? { ok: true, detail: `${classifier.model} on ${classifier.provider}` }
          : { ok: false, detail: 'loading the model' },
    };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  metrics(): Promise<{ contentType: string; body: string }> {
    return this.metricsSource.text();
  }

  async status(): Promise<StatusSnapshot> {
    const types = new Map(this.cfg.destinations.map((d) => [d.name, destinationType(d).type]));
    const dead = await listDeadLetters(this.spool.layout.dead, DEAD_LETTERS_SHOWN);
    const classifier = this.state.classifier();
    return {
      version: VERSION,
      model: classifier?.model,
      classifierProvider: classifier?.provider,
      startedAt: this.startedAt,
      ready: this.readiness().ok,
      destinations: this.dispatcher.statuses().map((s) => ({ ...s, type: types.get(s.name) ?? '?' })),
      deadLetters: dead.records,
      deadLettersTotal: dead.total,
      series: this.recent.list(),
      counts: this.recent.regionCounts(),
      regions: REGION_VOCABULARY,
    };
  }

  thumbnail(seriesInstanceUid: string): Buffer | undefined {
    return this.recent.thumbnail(seriesInstanceUid);
  }

  async pause(destination: string): Promise<void> {
    this.knownDestination(destination);
    await this.dispatcher.pause(destination);
  }

  async resume(destination: string): Promise<void> {
    this.knownDestination(destination);
    await this.dispatcher.resume(destination);
  }

  async requeue(destination: string | undefined, id: string | undefined): Promise<number> {
    if (destination !== undefined) this.knownDestination(destination);
    const destinations = destination ? [destination] : this.cfg.destinations.map((d) => d.name);
    const moved = await requeueDeadLetters(this.spool.layout, destinations, id ? new Set([id]) : 'all');
    if (id && moved.length === 0) throw new OperatorError(404, `no dead letter ${id}${destination ? ` for ${destination}` : ''}`);
    // taken into the queues now rather than at the next poll
    await this.dispatcher.takeRequeued();
    return moved.length;
  }

  async correct(seriesInstanceUid: string, region: string): Promise<number> {
    if (!isRegion(region)) throw new OperatorError(400, `"${region}" is not a region (${REGION_VOCABULARY.join(', ')})`);
    const found = this.recent.find(seriesInstanceUid);
    if (!found) throw new OperatorError(404, 'no such series among the recent ones');
    const rows = await appendCorrection(
      this.spool.layout.corrections,
      { studyInstanceUid: found.view.studyInstanceUid, seriesInstanceUid, instances: found.instances, complete: found.complete },
      region,
    );
    this.recent.markCorrected(seriesInstanceUid, region);
    return rows;
  }

  private knownDestination(name: string): void {
    if (!this.cfg.destinations.some((d) => d.name === name)) throw new OperatorError(404, `no destination named "${name}"`);
  }
}
