import { Classifier } from '../../classify/classifier';
import { ClassifyOutcome } from '../../classify/classification';
import { Logger } from '../../observability/logger';
import { ClassifiedEvent, noTelemetry, Telemetry } from '../../observability/telemetry';
import { UNKNOWN } from '../../regions/region';
import { Classified, Received } from '../lifecycle';
import { eachObject, next, Stage, StageResult } from '../stage';

/**
 * Classifies each object in the inference workers. It never fails an object: a skipped
 * (non-image, non-CT/MR) or undecodable object goes on unclassified, with the reason. Without a
 * classifier (classifier.enabled: false) every object goes on unclassified.
 */
export class ClassifyStage implements Stage<Received, Classified> {
  readonly name = 'classification';

  constructor(
    private readonly classifier: Pick<Classifier, 'classify'> | undefined,
    private readonly log: Logger,
    private readonly telemetry: Telemetry = noTelemetry,
  ) {}

  readonly run = eachObject(async (r: Received): Promise<StageResult<Classified>> => {
    const obj = r.object;
    if (!this.classifier) return next({ ...r, classification: NOT_CLASSIFYING });
    const outcome = await this.classifier.classify(obj.path);
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
    return next({ ...r, classification: outcome });
  });
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
