import { ClassifyOutcome } from '../../classify/classification';
import { slicePosition } from '../../dicom/geometry';
import { Tags } from '../../dicom/tags';
import { Logger } from '../../observability/logger';
import { RouteRegion, UNCLASSIFIED } from '../../regions/region';
import { labelSeries } from '../../tag/series-label';
import { Classified, Labelled } from '../lifecycle';
import { next, Stage, StageResult } from '../stage';

/**
 * Decides what each object is labelled and routed as. In image mode the batch is one image: its
 * own region. In series mode the batch is a whole series (the series holder gathered it): the
 * series' regions from all its images' scores, head to foot, given to every classified image of
 * it, so the series leaves with one label. Never fails.
 */
export class LabelStage implements Stage<Classified, Labelled> {
  readonly name = 'labelling';

  constructor(
    private readonly mode: 'image' | 'series',
    private readonly log: Logger,
  ) {}

  async run(batch: readonly Classified[]): Promise<StageResult<Labelled>[]> {
    if (this.mode === 'image') return batch.map((c) => next({ ...c, label: imageLabel(c.classification), regions: regionsOf(c.classification) }));
    const series = labelSeries(
      batch.map(({ object: o, classification: c }) => ({
        position: slicePosition(o.attributes.get(Tags.ImagePositionPatient), o.attributes.get(Tags.ImageOrientationPatient)),
        instanceNumber: Number(o.attributes.get(Tags.InstanceNumber)) || undefined,
        scores: c.kind === 'classified' ? c.scores : undefined,
      })),
    );
    if (!series) return batch.map((c) => next({ ...c, label: undefined, regions: regionsOf(c.classification) }));
    this.log.info('series labelled', {
      seriesInstanceUid: batch[0].object.seriesInstanceUid,
      images: batch.length,
      // series.classify: sampled classifies some; the others carry a neighbour's outcome
      classified: batch.filter((c) => !(c.classification.kind === 'classified' && c.classification.fromNeighbour)).length,
      regions: series.regions.join(','),
      term: series.term,
    });
    return batch.map((c) => {
      const image = imageLabel(c.classification);
      if (!image) return next({ ...c, label: undefined, regions: regionsOf(c.classification) });
      return next({ ...c, label: { ...image, series: { regions: series.regions, term: series.term } }, regions: series.regions });
    });
  }
}

function imageLabel(c: ClassifyOutcome): Labelled['label'] {
  return c.kind === 'classified' ? { imageRegion: c.region, confidence: c.confidence, model: c.model, evidence: c.evidence } : undefined;
}

/** The routing regions of one object on its own. */
function regionsOf(c: ClassifyOutcome): RouteRegion[] {
  return c.kind === 'classified' ? [c.region] : [UNCLASSIFIED];
}
