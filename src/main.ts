import { Config } from './config/schema';
import { Dispatcher } from './dispatch/dispatcher';
import { IngestServer } from './ingest/server';
import { createLogger, Logger } from './observability/logger';
import { Pipeline } from './pipeline/pipeline';
import { Router } from './route/router';
import { Spool } from './spool/spool';
import { VERSION } from './version';

/** The running router: wires config → spool → pipeline → dispatcher, and the listener in front. */
export class App {
  readonly log: Logger;
  readonly spool: Spool;
  readonly dispatcher: Dispatcher;
  readonly pipeline: Pipeline;
  readonly ingest: IngestServer;
  port = 0;

  constructor(readonly cfg: Config, log?: Logger) {
    this.log = log ?? createLogger(cfg.logging);
    this.spool = new Spool({ dir: cfg.spool.dir, minFreeBytes: cfg.spool.minFreeBytes, maxObjectBytes: cfg.listen.maxObjectBytes }, this.log.child({ component: 'spool' }));
    this.dispatcher = new Dispatcher(cfg, this.spool, this.log);
    this.pipeline = new Pipeline(this.spool, [], new Router(cfg.routes), this.dispatcher, this.log.child({ component: 'pipeline' }));
    this.ingest = new IngestServer(cfg.listen, this.spool, this.log.child({ component: 'ingest' }), (obj) => this.pipeline.submit(obj));
  }

  /** Recovery first (nothing acknowledged earlier is forgotten), then the listener. */
  async start(): Promise<void> {
    this.log.info('bodyroute starting', { version: VERSION, spool: this.cfg.spool.dir, destinations: this.cfg.destinations.map((d) => d.name).join(',') });
    await this.spool.init();
    await this.dispatcher.init();
    await this.dispatcher.recoverStored();
    await this.pipeline.recoverInbox();
    this.dispatcher.start();
    this.port = await this.ingest.start();
  }

  async stop(): Promise<void> {
    await this.ingest.stop();
    await this.pipeline.stop();
    await this.dispatcher.stop();
    this.log.info('bodyroute stopped');
  }
}
