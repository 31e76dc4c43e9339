import { Dispatcher } from '../../dispatch/dispatcher';
import { Tags } from '../../dicom/tags';
import { Logger } from '../../observability/logger';
import { noTelemetry, RoutedEvent, Telemetry } from '../../observability/telemetry';
import { Router } from '../../route/router';
import { Spool } from '../../spool/spool';
import { Routed, Tagged } from '../lifecycle';
import { eachObject, next, retry, Stage, StageResult } from '../stage';

/**
 * Matches the routing rules and commits the object for the destinations they name (journal,
 * inbox → store, queues: one call, Dispatcher.commitRouted). An object no rule matches is kept in
 * unrouted/ with the reason, never dropped. A commit that fails (a journal that cannot be
 * written) is retried: the object is still in the inbox.
 */
export class RouteStage implements Stage<Tagged, Routed> {
  readonly name = 'routing';

  constructor(
    private readonly router: Pick<Router, 'route'>,
    private readonly dispatcher: Pick<Dispatcher, 'commitRouted'>,
    private readonly spool: Pick<Spool, 'setAside'>,
    private readonly log: Logger,
    private readonly telemetry: Telemetry = noTelemetry,
  ) {}

  readonly run = eachObject(async (t: Tagged): Promise<StageResult<Routed>> => {
    const obj = t.object;
    const modality = obj.modality ?? '';
    try {
      const destinations = this.router.route({
        regions: t.regions,
        modality,
        callingAeTitle: obj.origin.callingAeTitle,
        calledAeTitle: obj.origin.calledAeTitle,
        tags: obj.attributes,
      });
      if (destinations.length === 0) {
        await this.spool.setAside(obj, 'unrouted', `no routing rule matched (regions ${t.regions.join(',')}, modality ${modality})`);
        this.telemetry.routed(routedEvent(t, destinations));
        return next({ ...t, destinations });
      }
      await this.dispatcher.commitRouted(t.outgoing, destinations);
      this.log.debug('routed', { id: obj.id, sopInstanceUid: obj.sopInstanceUid, regions: t.regions.join(','), to: destinations.join(',') });
      this.telemetry.routed(routedEvent(t, destinations));
      return next({ ...t, destinations });
    } catch (err) {
      return retry(err);
    }
  });
}

function routedEvent(t: Tagged, destinations: readonly string[]): RoutedEvent {
  const o = t.object;
  const c = t.classification;
  return {
    at: Date.now(),
    studyInstanceUid: o.studyInstanceUid ?? '',
    seriesInstanceUid: o.seriesInstanceUid ?? '',
    sopInstanceUid: o.sopInstanceUid,
    callingAeTitle: o.origin.callingAeTitle,
    modality: o.modality ?? '',
    seriesDescription: o.attributes.get(Tags.SeriesDescription) ?? '',
    instanceNumber: Number(o.attributes.get(Tags.InstanceNumber)) || undefined,
    regions: t.regions,
    ...(c.kind === 'classified'
      ? { imageRegion: c.imageRegion, confidence: c.confidence, headerRegions: c.headerRegions, preview: c.preview, previewSize: c.previewSize }
      : {}),
    destinations,
  };
}
