import { Classifier } from '../../classify/classifier';
import { ClassifyOutcome } from '../../classify/classification';
import { Logger } from '../../observability/logger';
import { ClassifiedEvent, noTelemetry, Telemetry } from '../../observability/telemetry';
import { UNKNOWN } from '../../regions/region';
import { Classified, Received } from '../lifecycle';
import { eachObject, next, Stage, StageResult } from '../stage';
import { sampleSeries } from '../../classify/series-sampling';
import { slicePosition } from '../../dicom/geometry';
import { Tags } from '../../dicom/tags';
import { sliceOrder } from '../../tag/series-label';

/**
 * Classifies objects in the inference workers. It never fails an object: a skipped (non-image,
 * non-CT/MR) or undecodable object goes on unclassified, with the reason. Without a classifier
 * (classifier.enabled: false) every object goes on unclassified.
 *
 * Sampled (series mode, `series.classify: sampled`), its batch is a whole series, held before it:
 * only the slices series-sampling.ts picks are classified, and each other slice carries its nearest
 * classified neighbour's outcome (marked `fromNeighbour`), which is all the series label needs.
 */
export class ClassifyStage implements Stage<Received, Classified> {
  readonly name = 'classification';

  constructor(
    private readonly classifier: Pick<Classifier, 'classify'> | undefined,
    private readonly log: Logger,
    private readonly telemetry: Telemetry = noTelemetry,
    private readonly sampled = false,
  ) {}

  run(batch: readonly Received[]): Promise<StageResult<Classified>[]> {
    return this.sampled && this.classifier && batch.length > 1 ? this.runSampled(batch) : this.eachAlone(batch);
  }

  private async runSampled(batch: readonly Received[]): Promise<StageResult<Classified>[]> {
    const order = positionOrder(batch.map((r) => r.object));
    const sampled = await sampleSeries(
      order.length,
      (k) => this.classifyOne(batch[order[k]].object),
      (o) => (o.kind === 'classified' ? o.region : `!${o.kind}`),
      (o) => o.kind === 'classified',
    );
    const results: StageResult<Classified>[] = new Array(batch.length);
    order.forEach((at, k) => {
      const own = batch[at];
      const source = sampled.results[k];
      const carried =
        sampled.sourceOf[k] === k || source.kind !== 'classified'
          ? source
          : { ...source, sopInstanceUid: own.object.sopInstanceUid, fromNeighbour: source.sopInstanceUid };
      results[at] = next({ ...own, classification: carried });
    });
    this.log.debug('series classified by sampling', {
      seriesInstanceUid: batch[0].object.seriesInstanceUid,
      images: batch.length,
      classified: sampled.classified,
    });
    return results;
  }

  private readonly eachAlone = eachObject(async (r: Received): Promise<StageResult<Classified>> => {
    if (!this.classifier) return next({ ...r, classification: NOT_CLASSIFYING });
    return next({ ...r, classification: await this.classifyOne(r.object) });
  });

  private async classifyOne(obj: Received['object']): Promise<ClassifyOutcome> {
    const outcome = await (this.classifier as Pick<Classifier, 'classify'>).classify(obj.path);
    if (outcome.kind === 'classified') {
      this.log.debug('classified', {
        id: obj.id,
        sopInstanceUid: obj.sopInstanceUid,
        region: outcome.region,
        confidence: Number(outcome.confidence.toFixed(3)),
      });
    } else if (outcome.kind === 'skipped') {
      this.log.debug('not classified', { id: obj.id, sopInstanceUid: obj.sopInstanceUid, reason: outcome.reason });
    } else {
      this.log.warn('not classified: cannot decode', { id: obj.id, sopInstanceUid: obj.sopInstanceUid, reason: outcome.message });
    }
    this.telemetry.classified(classifiedEvent(obj.modality ?? '', outcome));
    return outcome;
  }
}

/** Indices of the objects in slice order (series-label.ts's order, from the attributes read at receive time). */
function positionOrder(objs: readonly Received['object'][]): number[] {
  return sliceOrder(
    objs.map((o) => ({
      position: slicePosition(o.attributes.get(Tags.ImagePositionPatient), o.attributes.get(Tags.ImageOrientationPatient)),
      instanceNumber: Number(o.attributes.get(Tags.InstanceNumber)) || undefined,
    })),
  );
}

const NOT_CLASSIFYING: ClassifyOutcome = { kind: 'skipped', reason: 'the classifier is disabled' };

function classifiedEvent(modality: string, o: ClassifyOutcome): ClassifiedEvent {
  if (o.kind === 'skipped') return { modality: o.modality ?? modality, outcome: 'skipped' };
  if (o.kind === 'error') return { modality, outcome: 'error' };
  return {
    modality: o.modality,
    outcome: o.region === UNKNOWN ? 'unknown' : 'classified',
    region: o.region === UNKNOWN ? undefined : o.region,
    confidence: o.confidence,
    inferenceSeconds: o.inferenceMs !== undefined ? o.inferenceMs / 1000 : undefined,
  };
}
