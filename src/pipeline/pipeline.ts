import { Classifier } from '../classify/classifier';
import { Clock, systemClock } from '../clock';
import { Dispatcher } from '../dispatch/dispatcher';
import { errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { Telemetry } from '../observability/telemetry';
import { Router } from '../route/router';
import { Spool } from '../spool/spool';
import { SpooledObject } from '../spool/spooled-object';
import { TagWriter } from '../tag/tag-writer';
import { Classified, Labelled, Received, Routed, Tagged } from './lifecycle';
import { SeriesHolder } from './series-holder';
import { Stage, StageName, StageResult } from './stage';
import { ClassifyStage } from './stages/classify';
import { LabelStage } from './stages/label';
import { RouteStage } from './stages/route';
import { TagFailurePolicy, TagStage } from './stages/tag';

export interface PipelineOptions {
  spool: Spool;
  /** Classifies each object; absent = every object goes on unclassified (classifier.enabled: false). */
  classifier?: Pick<Classifier, 'classify'>;
  /** Writes the region into classified images; absent = forward unchanged. */
  tagWriter?: Pick<TagWriter, 'write'>;
  /** series: hold each series until stable and label it as a whole. */
  mode: 'image' | 'series';
  /** An object the label can never be written into: forwarded without it, or quarantined. */
  onTagFailure?: TagFailurePolicy;
  seriesStableMs: number;
  /** Series mode: classify every slice (as they arrive), or hold the series first and classify a sample of its slices. */
  seriesClassify?: 'all' | 'sampled';
  router: Pick<Router, 'route'>;
  dispatcher: Pick<Dispatcher, 'commitRouted'>;
  log: Logger;
  concurrency?: number;
  /** Tries of an object at one stage before it is quarantined (a poison object must not loop forever). */
  maxAttempts?: number;
  /** Wait before the next try after a stage asked for one without saying when. */
  retryDelayMs?: number;
  clock?: Clock;
  telemetry?: Telemetry;
}

/** The stages in order, their types lined up: each one's output is the next one's input. */
interface Chain {
  classify: Stage<Received, Classified>;
  label: Stage<Classified, Labelled>;
  tag: Stage<Labelled, Tagged>;
  route: Stage<Tagged, Routed>;
}

type AnyStage = Stage<Received, Received>;

/**
 * The stage runner. Acknowledged objects go from the inbox through classification, (series
 * mode: the series holder,) labelling, tagging and routing-and-commit; each stage answers per
 * object with next, retry or fail, and the runner alone keeps the attempt counts (per object and
 * stage, in the spool so a restart keeps them), schedules retries on the clock and quarantines
 * with the stage named. A retry runs the stage again for the objects that asked, with what the
 * stages before gave them: a series keeps the one label it was given. Anything unfinished stays
 * in the inbox, so nothing acknowledged is dropped.
 */
export class Pipeline {
  private readonly waiting: SpooledObject[] = [];
  private active = 0;
  private stopped = false;
  private idleResolvers: (() => void)[] = [];
  private readonly holder: SeriesHolder<Received> | undefined;
  private readonly concurrency: number;
  private readonly clock: Clock;
  private readonly tagStage: TagStage;
  /** Stages in order, types erased once `Chain` has checked them. */
  private readonly stages: readonly AnyStage[];
  /** Index of the stage the series holder sits before: labelling, or classification when series are sampled. */
  private readonly holdAt: number;
  private readonly pendingRetries = new Set<() => void>();
  /** Objects found in the inbox at start that have not yet left it (routed, set aside). */
  private readonly recovering = new Set<string>();

  constructor(private readonly o: PipelineOptions) {
    // objects in flight between inbox and dispatch: enough to keep the classifier fed and fsyncs shared
    this.concurrency = o.concurrency ?? 32;
    this.clock = o.clock ?? systemClock;
    const sampled = o.mode === 'series' && o.seriesClassify !== 'all';
    this.tagStage = new TagStage(o.tagWriter, o.onTagFailure ?? 'forward-untagged', o.log);
    const chain: Chain = {
      classify: new ClassifyStage(o.classifier, o.log, o.telemetry, sampled),
      label: new LabelStage(o.mode, o.log),
      tag: this.tagStage,
      route: new RouteStage(o.router, o.dispatcher, o.spool, o.log, o.telemetry),
    };
    this.stages = [chain.classify, chain.label, chain.tag, chain.route] as readonly Stage<never, Received>[] as readonly AnyStage[];
    this.holdAt = sampled ? 0 : 1;
    if (o.mode === 'series')
      this.holder = new SeriesHolder<Received>(o.seriesStableMs, (series) => this.track(this.runFrom(this.holdAt, series, true)), this.clock);
  }

  /** SIGHUP: the label writer and failure policy for objects tagged from now on (the mode stays). */
  retag(tagWriter: Pick<TagWriter, 'write'> | undefined, onTagFailure: TagFailurePolicy | undefined): void {
    this.tagStage.configure(tagWriter, onTagFailure ?? 'forward-untagged');
  }

  /** Objects between the inbox and the dispatcher (waiting, in a stage, or held as part of a series). */
  get backlog(): number {
    return this.waiting.length + this.active + (this.holder?.heldImages ?? 0);
  }

  submit(obj: SpooledObject): void {
    this.waiting.push(obj);
    this.pump();
  }

  /** Objects left in the inbox by the last run that are still in the pipeline. */
  get recoveryPending(): number {
    return this.recovering.size;
  }

  /** Re-runs what was acknowledged but not routed when the process stopped. */
  async recoverInbox(): Promise<number> {
    const ids = await this.o.spool.listIds(this.o.spool.inboxDir);
    for (const id of ids) this.recovering.add(id);
    for (const id of ids) {
      const path = this.o.spool.inboxPath(id);
      try {
        this.submit(await this.o.spool.load(id, path));
      } catch (err) {
        await this.o.spool.setAside({ id, path }, 'quarantine', `loading after a restart: ${errorMessage(err)}`);
        this.recovering.delete(id);
      }
    }
    if (ids.length) this.o.log.info('re-processing acknowledged objects left in the inbox', { count: ids.length });
    return ids.length;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.waiting.length) {
      this.track(this.runFrom(0, [{ object: this.waiting.shift() as SpooledObject }]));
    }
  }

  private track(work: Promise<void>): void {
    this.active++;
    void work.finally(() => {
      this.active--;
      this.pump();
      if (this.active === 0 && (this.waiting.length === 0 || this.stopped)) this.idleResolvers.splice(0).forEach((r) => r());
    });
  }

  /** Runs `batch` through the stages from `index` on; `held`: it has been through the series holder. */
  private async runFrom(index: number, batch: readonly Received[], held = false): Promise<void> {
    for (let i = index; i < this.stages.length && batch.length > 0; i++) {
      if (i === this.holdAt && this.holder && !held) {
        for (const item of batch) this.holder.add(item);
        return;
      }
      batch = await this.runStage(i, batch);
    }
    for (const done of batch) this.recovering.delete(done.object.id);
    await Promise.all(batch.map((done) => this.o.spool.attempts.clear(done.object.id)));
  }

  /** One stage for a batch: returns what goes on; schedules retries and quarantines the rest. */
  private async runStage(index: number, batch: readonly Received[]): Promise<Received[]> {
    const stage = this.stages[index];
    let results: StageResult<Received>[];
    try {
      results = await stage.run(batch);
    } catch (err) {
      // a stage that throws broke its contract; the objects are still in the inbox, so try again
      results = batch.map(() => ({ kind: 'retry', error: err instanceof Error ? err : new Error(String(err)) }));
    }
    const onward: Received[] = [];
    const again: Received[] = [];
    let afterMs = 0;
    await Promise.all(
      results.map(async (result, k) => {
        const item = batch[k];
        if (result.kind === 'next') {
          onward.push(result.value);
        } else if (result.kind === 'fail') {
          await this.quarantine(item.object, `${stage.name}: ${result.error.message}`);
        } else if (await this.mayRetry(item.object, stage.name, result.error)) {
          again.push(item);
          afterMs = Math.max(afterMs, result.afterMs ?? this.o.retryDelayMs ?? 5000);
        }
      }),
    );
    if (again.length) this.retryLater(index, again, afterMs);
    return onward;
  }

  /**
   * Counts the failed attempt; under pipeline.maxAttempts the object stays in the inbox and is
   * tried again, at the cap it is quarantined naming the stage and the reason.
   */
  private async mayRetry(obj: SpooledObject, stage: StageName, error: Error): Promise<boolean> {
    const maxAttempts = this.o.maxAttempts ?? 10;
    let attempt: number;
    try {
      attempt = await this.o.spool.attempts.record(obj.id, stage);
    } catch (err) {
      // the count cannot be kept (the disk that made the stage fail, likely): retry all the same
      this.o.log.warn('cannot record a failed attempt', { id: obj.id, stage, reason: errorMessage(err) });
      attempt = 1;
    }
    if (attempt < maxAttempts) {
      this.o.log.error('pipeline error; object stays in the inbox and is retried', {
        id: obj.id,
        stage,
        attempt,
        reason: error.message,
        retryInMs: this.o.retryDelayMs ?? 5000,
      });
      return true;
    }
    await this.quarantine(obj, `${stage}: ${error.message} (gave up after ${attempt} attempts)`);
    return false;
  }

  private async quarantine(obj: SpooledObject, reason: string): Promise<void> {
    this.recovering.delete(obj.id);
    try {
      await this.o.spool.setAside(obj, 'quarantine', reason);
    } catch (err) {
      // cannot even move it: leave it in the inbox, where the next start tries again
      this.o.log.error('cannot quarantine an object; it stays in the inbox', { id: obj.id, reason: errorMessage(err) });
    }
  }

  private retryLater(index: number, batch: Received[], afterMs: number): void {
    const cancel = this.clock.setTimer(afterMs, () => {
      this.pendingRetries.delete(cancel);
      // a batch that ran stage `index` at or after the holder's place has been through it
      if (!this.stopped) this.track(this.runFrom(index, batch, index >= this.holdAt));
    });
    this.pendingRetries.add(cancel);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.holder?.stop();
    for (const cancel of this.pendingRetries) cancel();
    this.pendingRetries.clear();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleResolvers.push(resolve));
  }
}
