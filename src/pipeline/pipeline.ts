import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ClassifyOutcome } from '../classify/classification';
import { Tags } from '../dicom/tags';
import { Clock, systemClock } from '../clock';
import { Dispatcher } from '../dispatch/dispatcher';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { Router, RoutingFacts } from '../route/router';
import { editsPathFor } from '../spool/dataset-edits';
import { Spool } from '../spool/spool';
import { SpooledObject } from '../spool/spooled-object';
import { slicePosition } from '../dicom/geometry';
import { labelSeries } from '../tag/series-label';
import { TagWriter } from '../tag/tag-writer';
import { RegionLabel } from '../tag/tagger';
import { SeriesHolder } from './series-holder';
import { Stage } from './stage';
import { RouteRegion, UNCLASSIFIED } from '../regions/region';

export interface PipelineOptions {
  spool: Spool;
  /** Stages run on every object (classification). */
  stages: readonly Stage[];
  /** Writes the region into classified images; absent = forward unchanged. */
  tagWriter?: TagWriter;
  /** series: hold each series until stable and label it as a whole. */
  mode: 'image' | 'series';
  /** An object the label can never be written into: forwarded without it, or quarantined. */
  onTagFailure?: 'forward-untagged' | 'quarantine';
  seriesStableMs: number;
  router: Router;
  dispatcher: Dispatcher;
  log: Logger;
  concurrency?: number;
  /** Tries of an object through the pipeline before it is quarantined (a poison object must not loop forever). */
  maxAttempts?: number;
  /** Wait before the next try after an error. */
  retryDelayMs?: number;
  clock?: Clock;
}

/**
 * Takes acknowledged objects from the inbox through the stages (classify), labels them (per
 * image, or per series), records the tags (edits), routes, journals the deliveries and hands them
 * to the dispatcher. Anything that goes wrong leaves the object in the inbox to be tried again,
 * so nothing acknowledged is dropped.
 */
export class Pipeline {
  private readonly waiting: SpooledObject[] = [];
  private active = 0;
  private stopped = false;
  private idleResolvers: (() => void)[] = [];
  private readonly holder: SeriesHolder | undefined;
  private readonly concurrency: number;
  /** Failed tries so far, by spool id (in memory: a restart gives an object a fresh count). */
  private readonly attempts = new Map<string, number>();
  private readonly clock: Clock;

  constructor(private readonly o: PipelineOptions) {
    // objects in flight between inbox and dispatch: enough to keep the classifier fed and fsyncs shared
    this.concurrency = o.concurrency ?? 32;
    this.clock = o.clock ?? systemClock;
    if (o.mode === 'series') this.holder = new SeriesHolder(o.seriesStableMs, (objs) => this.track(this.finishSeries(objs)));
  }

  /** SIGHUP: the label writer and failure policy for objects tagged from now on (the mode stays). */
  retag(tagWriter: TagWriter | undefined, onTagFailure: PipelineOptions['onTagFailure']): void {
    this.o.tagWriter = tagWriter;
    this.o.onTagFailure = onTagFailure;
  }

  /** Objects between the inbox and the dispatcher (waiting, being classified/tagged/routed). */
  get backlog(): number {
    return this.waiting.length + this.active;
  }

  submit(obj: SpooledObject): void {
    this.waiting.push(obj);
    this.pump();
  }

  /** Re-runs what was acknowledged but not routed when the process stopped. */
  async recoverInbox(): Promise<number> {
    const ids = await this.o.spool.listIds(this.o.spool.inboxDir);
    for (const id of ids) {
      try {
        this.submit(await this.o.spool.load(id, this.o.spool.inboxPath(id)));
      } catch (err) {
        await this.quarantine(id, this.o.spool.inboxPath(id), errorMessage(err));
      }
    }
    if (ids.length) this.o.log.info('re-processing acknowledged objects left in the inbox', { count: ids.length });
    return ids.length;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.waiting.length) {
      this.track(this.process(this.waiting.shift() as SpooledObject));
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

  private async process(original: SpooledObject): Promise<void> {
    let obj = original;
    try {
      for (const stage of this.o.stages) {
        const result = await stage.run(obj);
        if (result.kind === 'retry') {
          this.o.log.warn('stage asked to retry', { stage: stage.name, id: obj.id, code: result.error.code, reason: result.error.message });
          this.later(original, result.afterMs);
          return;
        }
        if (result.kind === 'fail') {
          await this.quarantine(obj.id, obj.path, `${stage.name}: ${result.error.message}`);
          return;
        }
        obj = result.object;
      }
    } catch (err) {
      await this.failed(original, 'stages', err);
      return;
    }
    if (this.holder) {
      this.holder.add(obj);
      return;
    }
    const c = obj.classification;
    const label = c?.kind === 'classified' ? { imageRegion: c.region, confidence: c.confidence, model: c.model, evidence: c.evidence } : undefined;
    await this.deliver(obj, label, regionsOf(c));
  }

  private async finishSeries(objs: SpooledObject[]): Promise<void> {
    const series = labelSeries(
      objs.map((o) => {
        const c = o.classification;
        return {
          position: slicePosition(o.attributes.get(Tags.ImagePositionPatient), o.attributes.get(Tags.ImageOrientationPatient)),
          instanceNumber: Number(o.attributes.get(Tags.InstanceNumber)) || undefined,
          scores: c?.kind === 'classified' ? c.scores : undefined,
        };
      }),
    );
    if (series) {
      this.o.log.info('series labelled', {
        seriesInstanceUid: objs[0].seriesInstanceUid,
        images: objs.length,
        regions: series.regions.join(','),
        term: series.term,
      });
    }
    for (const obj of objs) {
      const c = obj.classification;
      if (c?.kind === 'classified' && series) {
        await this.deliver(
          obj,
          { imageRegion: c.region, confidence: c.confidence, model: c.model, evidence: c.evidence, series: { regions: series.regions, term: series.term } },
          series.regions,
        );
      } else {
        await this.deliver(obj, undefined, regionsOf(c));
      }
    }
  }

  private async deliver(obj: SpooledObject, label: RegionLabel | undefined, regions: RouteRegion[]): Promise<void> {
    let step = 'tag';
    try {
      const tagged = label ? await this.tag(obj, label) : obj;
      if (!tagged) return this.settled(obj.id);
      step = 'route';
      const facts: RoutingFacts = {
        regions,
        modality: obj.modality ?? '',
        callingAeTitle: obj.origin.callingAeTitle,
        calledAeTitle: obj.origin.calledAeTitle,
        tags: obj.attributes,
      };
      const destinations = this.o.router.route(facts);
      if (destinations.length === 0) {
        await this.quarantine(obj.id, obj.path, `no routing rule matched (regions ${regions.join(',')}, modality ${facts.modality})`, 'unrouted');
        if (tagged.tagged) await fsp.unlink(tagged.tagged.path).catch(() => undefined);
        if (tagged.edits) await fsp.unlink(editsPathFor(obj.path)).catch(() => undefined);
        return this.settled(obj.id);
      }
      step = 'commit';
      await this.o.dispatcher.commitRouted(tagged, destinations);
      this.settled(obj.id);
      this.o.log.debug('routed', { id: obj.id, sopInstanceUid: obj.sopInstanceUid, regions: regions.join(','), to: destinations.join(',') });
    } catch (err) {
      await this.failed(obj, step, err);
    }
  }

  private settled(id: string): void {
    this.attempts.delete(id);
  }

  /**
   * An error on the way (not a stage's own answer): the object stays in the inbox and is tried again
   * after pipeline.retryDelayMs, until pipeline.maxAttempts; then it is quarantined with the step
   * and the reason, so one poison object cannot loop forever.
   */
  private async failed(obj: SpooledObject, step: string, err: unknown): Promise<void> {
    const attempt = (this.attempts.get(obj.id) ?? 0) + 1;
    const maxAttempts = this.o.maxAttempts ?? 10;
    const delay = this.o.retryDelayMs ?? 5000;
    if (attempt < maxAttempts) {
      this.attempts.set(obj.id, attempt);
      this.o.log.error('pipeline error; object stays in the inbox and is retried', { id: obj.id, step, attempt, reason: errorMessage(err), retryInMs: delay });
      this.later(obj, delay);
      return;
    }
    this.settled(obj.id);
    try {
      await this.quarantine(obj.id, obj.path, `${step}: ${errorMessage(err)} (gave up after ${attempt} attempts)`);
      await fsp.unlink(editsPathFor(obj.path)).catch(() => undefined);
      await fsp.unlink(this.o.spool.taggedPath(obj.id)).catch(() => undefined);
    } catch (qerr) {
      // cannot even move it: leave it in the inbox, where the next start tries again
      this.o.log.error('cannot quarantine an object the pipeline gave up on; it stays in the inbox', { id: obj.id, reason: errorMessage(qerr) });
    }
  }

  /** The tagged object; the object as received when the label cannot be written; undefined once quarantined. */
  private async tag(obj: SpooledObject, label: RegionLabel): Promise<SpooledObject | undefined> {
    if (!this.o.tagWriter) return obj;
    try {
      return await this.o.tagWriter.write(obj, label);
    } catch (err) {
      if (!(err instanceof BodyrouteError && err.code === 'TAG_IMPOSSIBLE')) throw err;
      if (this.o.onTagFailure === 'quarantine') {
        await this.quarantine(obj.id, obj.path, `tagging: ${err.message}`);
        return undefined;
      }
      this.o.log.warn('forwarded without the label: it cannot be written into this object', {
        id: obj.id,
        sopInstanceUid: obj.sopInstanceUid,
        code: err.code,
        reason: err.message,
      });
      return obj;
    }
  }

  private later(obj: SpooledObject, ms: number): void {
    const { classification: _c, tagged: _t, edits: _e, ...fresh } = obj;
    this.clock.setTimer(ms, () => this.submit(fresh));
  }

  /** Objects the pipeline cannot handle are kept, never deleted: <spool>/<folder>/<id>.dcm + reason. */
  private async quarantine(id: string, path: string, reason: string, folder: 'quarantine' | 'unrouted' = 'quarantine'): Promise<void> {
    const dir = this.o.spool.layout.aside(folder);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.writeFile(join(dir, `${id}.txt`), reason + '\n', { mode: 0o600 });
    await fsp.rename(path, join(dir, `${id}.dcm`));
    this.o.log.warn(`object moved to ${folder}`, { id, reason });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.holder?.stop();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleResolvers.push(resolve));
  }
}

/** The routing regions of one object on its own. */
function regionsOf(c: ClassifyOutcome | undefined): RouteRegion[] {
  return c?.kind === 'classified' ? [c.region] : [UNCLASSIFIED];
}
