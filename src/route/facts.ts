import { RouteRegion } from '../regions/region';

/** What routing rules look at, for one object. */
export interface RoutingFacts {
  /** The image's region, the series' regions (series mode), ['unknown'] or ['unclassified']. */
  regions: readonly RouteRegion[];
  modality: string;
  callingAeTitle: string;
  calledAeTitle: string;
  /** Top-level attribute values by tag (those the rules name). */
  tags: Map<number, string>;
}
