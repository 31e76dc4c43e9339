import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Dispatcher } from '../dispatch/dispatcher';
import { errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { Router } from '../route/router';
import { Spool } from '../spool/spool';
import { SpooledObject } from '../spool/spooled-object';
import { Stage } from './stage';

const RETRY_AFTER_ERROR_MS = 5000;

/**
 * Takes acknowledged objects from the inbox through the stages, routes them, journals
 * their deliveries and hands them to the dispatcher. Anything that goes wrong leaves the
 * object in the inbox to be tried again, so nothing acknowledged is dropped.
 */
export class Pipeline {
  private readonly waiting: SpooledObject[] = [];
  private active = 0;
  private stopped = false;
  private idleResolvers: (() => void)[] = [];

  constructor(
    private readonly spool: Spool,
    private readonly stages: readonly Stage[],
    private readonly router: Router,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly concurrency = 4,
  ) {}

  submit(obj: SpooledObject): void {
    this.waiting.push(obj);
    this.pump();
  }

  /** Re-runs what was acknowledged but not routed when the process stopped. */
  async recoverInbox(): Promise<number> {
    const ids = await this.spool.listIds(this.spool.inboxDir);
    for (const id of ids) {
      try {
        this.submit(await this.spool.load(id, this.spool.inboxPath(id)));
      } catch (err) {
        await this.quarantine(id, this.spool.inboxPath(id), errorMessage(err));
      }
    }
    if (ids.length) this.log.info('re-processing acknowledged objects left in the inbox', { count: ids.length });
    return ids.length;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.waiting.length) {
      const obj = this.waiting.shift() as SpooledObject;
      this.active++;
      void this.process(obj).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && (this.waiting.length === 0 || this.stopped)) this.idleResolvers.splice(0).forEach((r) => r());
      });
    }
  }

  private async process(original: SpooledObject): Promise<void> {
    let obj = original;
    try {
      for (const stage of this.stages) {
        const result = await stage.run(obj);
        if (result.kind === 'retry') {
          this.log.warn('stage asked to retry', { stage: stage.name, id: obj.id, code: result.error.code, reason: result.error.message });
          this.later(obj, result.afterMs);
          return;
        }
        if (result.kind === 'fail') {
          await this.quarantine(obj.id, obj.path, `${stage.name}: ${result.error.message}`);
          return;
        }
        obj = result.object;
      }
      const destinations = this.router.route();
      if (destinations.length === 0) {
        await this.quarantine(obj.id, obj.path, 'no routing rule matched', 'unrouted');
        return;
      }
      await this.dispatcher.journal(obj, destinations);
      const stored = await this.spool.promote(obj);
      this.dispatcher.activate(stored, destinations);
    } catch (err) {
      this.log.error('pipeline error; object stays in the inbox and is retried', { id: obj.id, reason: errorMessage(err), retryInMs: RETRY_AFTER_ERROR_MS });
      this.later(original, RETRY_AFTER_ERROR_MS);
    }
  }

  private later(obj: SpooledObject, ms: number): void {
    setTimeout(() => this.submit(obj), ms).unref();
  }

  /** Objects the pipeline cannot handle are kept, never deleted: <spool>/<folder>/<id>.dcm + reason. */
  private async quarantine(id: string, path: string, reason: string, folder = 'quarantine'): Promise<void> {
    const dir = join(this.spool.dir, folder);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.writeFile(join(dir, `${id}.txt`), reason + '\n', { mode: 0o600 });
    await fsp.rename(path, join(dir, `${id}.dcm`));
    this.log.warn(`object moved to ${folder}`, { id, reason });
  }

  /** Resolves when nothing is waiting or in progress. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.active > 0) await new Promise<void>((resolve) => this.idleResolvers.push(resolve));
  }
}
