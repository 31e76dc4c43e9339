/**
 * The body regions bodyroute knows, as one domain vocabulary shared by classify, tag, route and
 * config: the model's classes, the route values for images without a region, and their order.
 */

export const REGION_VOCABULARY = [
  'head',
  'neck',
  'chest',
  'abdomen',
  'pelvis',
  'cspine',
  'tspine',
  'lspine',
  'shoulder',
  'upperarm',
  'elbow',
  'forearm',
  'hand',
  'hip',
  'thigh',
  'knee',
  'lowerleg',
  'foot',
  'breast',
] as const;
export type Region = (typeof REGION_VOCABULARY)[number];

/** Route value of an image below the model's threshold. */
export const UNKNOWN = 'unknown';
/** Route value of an object that is not a CT/MR image bodyroute classifies (or whose classification failed). */
export const UNCLASSIFIED = 'unclassified';
/** What routing sees of an object: its regions, or one of the two values above. */
export type RouteRegion = Region | typeof UNKNOWN | typeof UNCLASSIFIED;
export const ROUTE_REGIONS = [...REGION_VOCABULARY, UNKNOWN, UNCLASSIFIED] as const;

/** Anatomical order, head to foot (limbs after the trunk they attach to). */
const HEAD_TO_FOOT: Region[] = [
  'head',
  'neck',
  'cspine',
  'shoulder',
  'upperarm',
  'elbow',
  'forearm',
  'hand',
  'breast',
  'chest',
  'tspine',
  'abdomen',
  'lspine',
  'pelvis',
  'hip',
  'thigh',
  'knee',
  'lowerleg',
  'foot',
];

export function isRegion(r: string): r is Region {
  return (REGION_VOCABULARY as readonly string[]).includes(r);
}

export function orderHeadToFoot(regions: Iterable<string>): Region[] {
  const set = new Set(regions);
  return HEAD_TO_FOOT.filter((r) => set.has(r));
}
