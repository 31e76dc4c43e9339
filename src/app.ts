import { Config, TaggingConfig } from './config/schema';
import { errorMessage } from './errors';
import { Dispatcher } from './dispatch/dispatcher';
import { IngestServer } from './ingest/server';
import { createLogger, lineFormat, Logger } from './observability/logger';
import { Classifier, ClassifierInfo, classifierInfo, WorkerPoolClassifier } from './classify/classifier';
import { Pipeline } from './pipeline/pipeline';
import { startStatsLog } from './observability/stats';
import { TagWriter } from './tag/tag-writer';
import { Router } from './route/router';
import { Spool } from './spool/spool';
import { SpoolLock } from './spool/spool-lock';
import { recoverSpool } from './recovery';
import { VERSION } from './version';
import { OperatorHttpServer } from './http/server';
import { Metrics } from './observability/metrics';
import { Telemetry, telemetryTo } from './observability/telemetry';
import { Operations } from './operations';
import { RecentSeries } from './review/recent-series';

/** The running router: wires config → spool → pipeline → dispatcher, and the listener in front. */
export class App {
  readonly log: Logger;
  readonly spool: Spool;
  readonly dispatcher: Dispatcher;
  readonly ingest: IngestServer;
  private pipeline: Pipeline | undefined;
  private readonly router: Router;
  private classifier: Classifier | undefined;

  /** The model and where it runs, once the classifier has started. */
  private classifierInfo(): ClassifierInfo | undefined {
    return this.classifier && classifierInfo(this.classifier);
  }
  port = 0;
  /** The operator HTTP server's port, 0 when it is off. */
  httpPort = 0;
  private readonly recent = new RecentSeries();
  private readonly metrics: Metrics;
  private readonly operations: Operations;
  private http: OperatorHttpServer | undefined;
  private recovered = false;

  constructor(
    readonly cfg: Config,
    log?: Logger,
  ) {
    this.log = log ?? createLogger(cfg.logging);
    this.router = new Router(cfg.routes);
    this.spool = new Spool(
      {
        dir: cfg.spool.dir,
        minFreeBytes: cfg.spool.minFreeBytes,
        slotFiles: cfg.spool.slotFiles,
        maxObjectBytes: cfg.listen.maxObjectBytes,
        extraSummaryTags: this.router.referencedTags,
      },
      this.log.child({ component: 'spool' }),
    );
    this.metrics = new Metrics({
      associationsActive: () => this.ingest.activeAssociations,
      destinations: () => this.dispatcher.statuses(),
      spoolFreeBytes: () => this.operations.spoolFreeBytes(),
      classifier: () => this.classifierInfo(),
    });
    this.telemetry = telemetryTo(this.metrics, this.recent);
    this.dispatcher = new Dispatcher(cfg, this.spool, this.log, {}, this.telemetry);
    this.ingest = new IngestServer(cfg.listen, this.spool, this.log.child({ component: 'ingest' }), (obj) => this.pipeline?.submit(obj), this.telemetry);
    this.operations = new Operations(cfg, this.spool, this.dispatcher, this.recent, this.metrics, {
      listenerPort: () => this.port,
      recovered: () => this.recovered && (this.pipeline?.recoveryPending ?? 0) === 0,
      classifier: () => this.classifierInfo(),
      classifierWanted: cfg.classifier.enabled,
    });
  }

  private readonly telemetry: Telemetry;

  /** The classifier's worker pool, started; none when classification is off. */
  private async startClassifier(): Promise<Classifier | undefined> {
    const c = this.cfg.classifier;
    if (!c.enabled) return undefined;
    const log = this.log.child({ component: 'classify' });
    this.classifier = await WorkerPoolClassifier.create({
      manifestPath: c.model,
      device: c.device,
      threads: c.threads,
      workers: c.workers,
      maxBatch: c.maxBatch,
      useHeaders: c.useHeaders,
      jpeg2000: c.jpeg2000,
      onInfo: (message, fields) => log.info(message, fields),
      onWarn: (message, fields) => log.warn(message, fields),
    });
    return this.classifier;
  }

  /** Writes labels into classified images; none when nothing is classified or tagging is off. */
  private tagWriter(t: TaggingConfig): TagWriter | undefined {
    if (!this.classifier || !t.enabled) return undefined;
    return new TagWriter(
      {
        privateGroup: t.privateGroup,
        privateCreator: t.privateCreator,
        seriesDescription: t.seriesDescription,
        bodyPartExamined: t.bodyPartExamined,
        software: `bodyroute ${VERSION}`,
        onSkipped: (what, reason) => this.log.info(what, { component: 'tag', reason }),
      },
      (id) => this.spool.taggedPath(id),
    );
  }

  private spoolLock: SpoolLock | undefined;

  /**
   * The spool's lock before anything else (a second instance must not touch the spool), then the
   * operator's HTTP server (/readyz says "not yet" while the rest starts), recovery (nothing
   * acknowledged earlier is forgotten), then the listener.
   */
  async start(): Promise<void> {
    this.spoolLock = await SpoolLock.acquire(this.cfg.spool.dir, (err) => this.lockLost(err));
    this.log.info('bodyroute starting', { version: VERSION, spool: this.cfg.spool.dir, destinations: this.cfg.destinations.map((d) => d.name).join(',') });
    if (this.cfg.http.enabled) {
      this.http = new OperatorHttpServer(this.cfg.http, this.operations, this.log.child({ component: 'http' }));
      this.httpPort = await this.http.start();
    }
    const t = this.cfg.tagging;
    this.pipeline = new Pipeline({
      spool: this.spool,
      classifier: await this.startClassifier(),
      tagWriter: this.tagWriter(t),
      mode: t.mode,
      onTagFailure: t.onFailure,
      seriesStableMs: this.cfg.series.stableSeconds * 1000,
      seriesClassify: this.cfg.series.classify,
      maxAttempts: this.cfg.pipeline.maxAttempts,
      retryDelayMs: this.cfg.pipeline.retryDelayMs,
      router: this.router,
      dispatcher: this.dispatcher,
      log: this.log.child({ component: 'pipeline' }),
      telemetry: this.telemetry,
    });
    await recoverSpool(this.spool, this.dispatcher, this.pipeline);
    this.recovered = true;
    this.port = await this.ingest.start();
    this.stopStats = startStatsLog(this.log, this.cfg.logging.statsIntervalSeconds * 1000, () => ({
      pipeline: this.pipeline?.backlog ?? 0,
      ...Object.fromEntries(Object.entries(this.dispatcher.queued()).map(([name, n]) => [`queued:${name}`, n])),
    }));
  }

  private stopStats: () => void = () => undefined;

  async stop(): Promise<void> {
    this.stopStats();
    await this.ingest.stop(this.cfg.shutdown.graceSeconds * 1000);
    await this.pipeline?.stop();
    await this.classifier?.close();
    await this.dispatcher.stop();
    await this.http?.stop();
    await this.spool.close();
    await this.spoolLock?.release();
    this.log.info('bodyroute stopped');
  }

  private reloading: Promise<void> = Promise.resolve();

  /**
   * SIGHUP: the settings that can change live — destinations, retry, routes, access lists,
   * tagging (but its mode) and the log level — take effect for what arrives from now on; every
   * other changed key is named as needing a restart. Nothing queued or in progress is dropped.
   * Reloads run one after the other.
   */
  reload(next: Config): Promise<void> {
    this.reloading = this.reloading
      .then(() => this.apply(next))
      .catch((err) => {
        this.log.error('configuration reload failed; the running settings stay', { reason: errorMessage(err) });
      });
    return this.reloading;
  }

  private async apply(next: Config): Promise<void> {
    const changed = changedKeys(this.cfg, next);
    const live = new Set<string>();
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // destinations first: the new routes may name a new one
    const { applied, removed } = await this.dispatcher.reconfigure(next.destinations, next.retry);
    if (applied.length || removed.length) live.add('destinations');
    changed.filter((k) => k.startsWith('retry.')).forEach((k) => live.add(k));
    const newTags = Router.tagsNamedBy(next.routes).filter((t) => !this.router.referencedTags.includes(t));
    if (!same(next.routes, this.cfg.routes) && newTags.length === 0) {
      this.router.replace(next.routes);
      this.cfg.routes = next.routes;
      live.add('routes');
    }
    const l = this.cfg.listen;
    if (!same([next.listen.allowedCallingAeTitles, next.listen.allowedPeers], [l.allowedCallingAeTitles, l.allowedPeers])) {
      this.ingest.reloadAccess(next.listen.allowedCallingAeTitles, next.listen.allowedPeers);
      live.add('listen.allowedCallingAeTitles').add('listen.allowedPeers');
    }
    const taggingKeys = changed.filter((k) => k.startsWith('tagging.') && k !== 'tagging.mode');
    if (taggingKeys.length) {
      this.cfg.tagging = { ...next.tagging, mode: this.cfg.tagging.mode };
      this.pipeline?.retag(this.tagWriter(this.cfg.tagging), this.cfg.tagging.onFailure);
      taggingKeys.forEach((k) => live.add(k));
    }
    if (next.logging.level !== this.cfg.logging.level) {
      this.log.level = next.logging.level;
      this.cfg.logging.level = next.logging.level;
      live.add('logging.level');
    }
    if (next.logging.format !== this.cfg.logging.format) {
      // child loggers write through this one, so its format is theirs too
      this.log.format = lineFormat(next.logging.format);
      this.cfg.logging.format = next.logging.format;
      live.add('logging.format');
    }
    const restart = [
      ...changed.filter((k) => !live.has(k)),
      ...removed.map((name) => `destinations.${name} (removed: it delivers what it holds until the restart)`),
    ];
    this.log.info('configuration reloaded', { applied: [...applied, ...[...live].filter((k) => k !== 'destinations')].join(',') || 'nothing changed live' });
    if (restart.length) this.log.warn('configuration changes that take effect only after a restart', { keys: restart.join(',') });
  }

  /**
   * Another process may now be writing the spool (our lock went unrefreshed past its stale
   * time): keep nothing running on it. Whatever was acknowledged is on disk.
   */
  private lockLost(err: Error): void {
    this.log.error('spool lock lost; stopping so two instances never share the spool', { spool: this.cfg.spool.dir, reason: err.message });
    process.exit(1);
  }
}

/** Keys (two levels deep) whose values differ between the running and the new configuration. */
function changedKeys(running: Config, next: Config): string[] {
  const out: string[] = [];
  for (const key of Object.keys(next) as (keyof Config)[]) {
    const a = running[key] as unknown;
    const b = next[key] as unknown;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k])) out.push(`${key}.${k}`);
      }
    } else out.push(key);
  }
  return out;
}
