import { BODY_PART_TERMS, Region, REGION_VOCABULARY } from '../classify/manifest';

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

/** The Body Part Examined term for a region ('UNKNOWN' outside the vocabulary). */
export function bodyPartTerm(region: string): string {
  return isRegion(region) ? BODY_PART_TERMS[region] : 'UNKNOWN';
}

const COMPOSITES: [Region[], string][] = [
  [['chest', 'abdomen', 'pelvis'], 'CHESTABDPELVIS'],
  [['chest', 'abdomen'], 'CHESTABDOMEN'],
  [['abdomen', 'pelvis'], 'ABDOMENPELVIS'],
  [['head', 'neck'], 'HEADNECK'],
  [['neck', 'chest'], 'NECKCHEST'],
];

/**
 * One Body Part Examined term (CS, ≤ 16 characters) for a series covering these regions:
 * the single term, a composite defined term where DICOM has one, else the dominant region's.
 */
export function seriesBodyPartTerm(regions: Region[], dominant: Region): string {
  if (regions.length === 1) return BODY_PART_TERMS[regions[0]];
  const set = new Set(regions);
  for (const [parts, term] of COMPOSITES) if (parts.length === set.size && parts.every((p) => set.has(p))) return term;
  return BODY_PART_TERMS[dominant];
}
