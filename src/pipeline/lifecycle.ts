import type { ClassifyOutcome } from '../classify/classification';
import type { RouteRegion } from '../regions/region';
import type { SpooledObject } from '../spool/spooled-object';
import type { RegionLabel } from '../tag/tagger';

/**
 * What the pipeline knows of one acknowledged object, step by step. Each step's type adds what
 * that step learned, so a stage can only be handed an object the steps before it have finished:
 * received → classified → labelled → tagged → routed.
 */
export interface Received {
  /** The object as the spool holds it in the inbox. */
  readonly object: SpooledObject;
}

export interface Classified extends Received {
  /** What the classifier made of it (a skip or a decode error are outcomes too). */
  readonly classification: ClassifyOutcome;
}

export interface Labelled extends Classified {
  /** What bodyroute writes into it; none for an object that was not classified. */
  readonly label: RegionLabel | undefined;
  /** What routing rules match on: the image's region, the series' regions, or `unclassified`. */
  readonly regions: readonly RouteRegion[];
}

export interface Tagged extends Labelled {
  /** The object as it will leave: with the label's edits (or tagged copy), or as received. */
  readonly outgoing: SpooledObject;
}

export interface Routed extends Tagged {
  /** The destinations it was committed for; none when no rule matched (kept in unrouted/). */
  readonly destinations: readonly string[];
}
