import { isRegion, Region } from './region';

/** DICOM Body Part Examined defined terms for the vocabulary. */
const BODY_PART_TERMS: Record<Region, string> = {
  head: 'HEAD',
  neck: 'NECK',
  chest: 'CHEST',
  abdomen: 'ABDOMEN',
  pelvis: 'PELVIS',
  cspine: 'CSPINE',
  tspine: 'TSPINE',
  lspine: 'LSPINE',
  shoulder: 'SHOULDER',
  upperarm: 'ARM',
  elbow: 'ELBOW',
  forearm: 'FOREARM',
  hand: 'HAND',
  hip: 'HIP',
  thigh: 'THIGH',
  knee: 'KNEE',
  lowerleg: 'LEG',
  foot: 'FOOT',
  breast: 'BREAST',
};

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
