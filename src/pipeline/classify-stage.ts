import { Classifier } from '../classify/classifier';
import { Logger } from '../observability/logger';
import { SpooledObject } from '../spool/spooled-object';
import { Stage, StageResult } from './stage';

/**
 * Classifies each object in the inference workers. It never fails an object: a skipped
 * (non-image, non-CT/MR) or undecodable object goes on unclassified, with the reason.
 */
export class ClassifyStage implements Stage {
  readonly name = 'classify';

  constructor(
    private readonly classifier: Classifier,
    private readonly log: Logger,
  ) {}

  async run(obj: SpooledObject): Promise<StageResult> {
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
    return { kind: 'ok', object: { ...obj, classification: outcome } };
  }
}
