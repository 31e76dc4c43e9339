import { PNG } from 'pngjs';
import { RoutedEvent, Telemetry } from '../observability/telemetry';

/** At most this many series are remembered (in memory only), the oldest forgotten first. */
const MAX_SERIES = 500;
/** SOP Instance UIDs kept per series for label corrections; a larger series is corrected as a whole. */
const MAX_INSTANCES = 2000;
/** Previews kept per series, spread over its slices, to show the middle one. */
const MAX_PREVIEWS = 9;

/** One series as the status page shows it. */
export interface SeriesView {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  firstAt: number;
  lastAt: number;
  callingAeTitle: string;
  modality: string;
  seriesDescription: string;
  images: number;
  /** What its images were routed as, head to foot where the series was labelled as a whole. */
  regions: string[];
  /** Mean confidence of its classified images. */
  confidence?: number;
  /** Regions the header named, where it named any. */
  headerRegions: string[];
  /** The header names a region the images were not routed as. */
  headerDisagrees: boolean;
  destinations: string[];
  hasThumbnail: boolean;
  /** A correction an operator made on the status page (this run). */
  correctedRegion?: string;
}

/** An instance of a series, for a label correction. */
export interface SeriesInstance {
  sopInstanceUid: string;
  imageRegion?: string;
}

interface SeriesRecord extends Omit<SeriesView, 'hasThumbnail'> {
  confidenceSum: number;
  classified: number;
  instances: SeriesInstance[];
  instancesComplete: boolean;
  previews: Preview[];
  previewStride: number;
}

interface Preview {
  key: number;
  pixels: Uint8Array;
  size: number;
}

/**
 * The last series that passed, for the status page: built from routing events, kept in memory
 * (never on disk), with a few of the classifier's own preprocessed images per series so the
 * page can show the middle slice. Counts per modality and region since the start.
 */
export class RecentSeries implements Partial<Telemetry> {
  private readonly series = new Map<string, SeriesRecord>();
  private readonly counts = new Map<string, number>();

  routed(e: RoutedEvent): void {
    const key = e.seriesInstanceUid || `sop|${e.sopInstanceUid}`;
    let r = this.series.get(key);
    if (r) {
      this.series.delete(key); // re-inserted below: the map stays in order of last activity
    } else {
      r = {
        studyInstanceUid: e.studyInstanceUid,
        seriesInstanceUid: e.seriesInstanceUid,
        firstAt: e.at,
        lastAt: e.at,
        callingAeTitle: e.callingAeTitle,
        modality: e.modality,
        seriesDescription: e.seriesDescription,
        images: 0,
        regions: [],
        headerRegions: [],
        headerDisagrees: false,
        destinations: [],
        confidenceSum: 0,
        classified: 0,
        instances: [],
        instancesComplete: true,
        previews: [],
        previewStride: 1,
      };
    }
    this.series.set(key, r);
    r.lastAt = e.at;
    r.images++;
    r.regions = union(r.regions, e.regions);
    r.destinations = union(r.destinations, e.destinations);
    if (e.headerRegions?.length) r.headerRegions = union(r.headerRegions, e.headerRegions);
    r.headerDisagrees = r.headerRegions.length > 0 && !r.headerRegions.some((h) => r.regions.includes(h));
    if (e.confidence !== undefined) {
      r.confidenceSum += e.confidence;
      r.classified++;
    }
    if (r.instances.length < MAX_INSTANCES) r.instances.push({ sopInstanceUid: e.sopInstanceUid, imageRegion: e.imageRegion });
    else r.instancesComplete = false;
    if (e.preview && e.previewSize) keepPreview(r, { key: Math.round(e.instanceNumber ?? r.images), pixels: e.preview, size: e.previewSize });
    for (const region of e.regions) this.count(e.modality, region);
    while (this.series.size > MAX_SERIES) this.series.delete(this.series.keys().next().value as string);
  }

  /** Newest activity first. */
  list(): SeriesView[] {
    return [...this.series.values()].reverse().map(viewOf);
  }

  find(seriesInstanceUid: string): { view: SeriesView; instances: SeriesInstance[]; complete: boolean } | undefined {
    const r = this.series.get(seriesInstanceUid);
    return r && { view: viewOf(r), instances: r.instances, complete: r.instancesComplete };
  }

  markCorrected(seriesInstanceUid: string, region: string): void {
    const r = this.series.get(seriesInstanceUid);
    if (r) r.correctedRegion = region;
  }

  /** The middle kept slice's preview as PNG, made now in memory; undefined without one. */
  thumbnail(seriesInstanceUid: string): Buffer | undefined {
    const previews = this.series.get(seriesInstanceUid)?.previews;
    if (!previews?.length) return undefined;
    const sorted = [...previews].sort((a, b) => a.key - b.key);
    const middle = sorted[Math.floor((sorted.length - 1) / 2)];
    const png = new PNG({ width: middle.size, height: middle.size });
    for (let i = 0; i < middle.pixels.length; i++) {
      png.data[i * 4] = png.data[i * 4 + 1] = png.data[i * 4 + 2] = middle.pixels[i];
      png.data[i * 4 + 3] = 255;
    }
    return PNG.sync.write(png);
  }

  /** Objects routed since the start, by modality and region. */
  regionCounts(): { modality: string; region: string; objects: number }[] {
    return [...this.counts].map(([k, objects]) => {
      const [modality, region] = k.split('|');
      return { modality, region, objects };
    });
  }

  private count(modality: string, region: string): void {
    const k = `${modality || '?'}|${region}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/**
 * Keeps at most MAX_PREVIEWS, evenly spread over the slices: only slices whose number is a multiple
 * of the series' stride are kept, and the stride doubles whenever too many are.
 */
function keepPreview(r: { previews: Preview[]; previewStride: number }, p: Preview): void {
  if (p.key % r.previewStride !== 0) return;
  r.previews.push(p);
  while (r.previews.length > MAX_PREVIEWS) {
    r.previewStride *= 2;
    r.previews = r.previews.filter((x) => x.key % r.previewStride === 0);
  }
}

function viewOf(r: SeriesRecord): SeriesView {
  return {
    studyInstanceUid: r.studyInstanceUid,
    seriesInstanceUid: r.seriesInstanceUid,
    firstAt: r.firstAt,
    lastAt: r.lastAt,
    callingAeTitle: r.callingAeTitle,
    modality: r.modality,
    seriesDescription: r.seriesDescription,
    images: r.images,
    regions: r.regions,
    confidence: r.classified ? r.confidenceSum / r.classified : undefined,
    headerRegions: r.headerRegions,
    headerDisagrees: r.headerDisagrees,
    destinations: r.destinations,
    hasThumbnail: r.previews.length > 0,
    correctedRegion: r.correctedRegion,
  };
}
