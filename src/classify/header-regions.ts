import { Region } from '../regions/region';

/**
 * What the header says about the body region: Body Part Examined (PS3.16 Annex L defined
 * terms) first, then Series Description and Protocol Name, then Study Description, read as
 * words in English, German, French, Italian, Spanish and Dutch, with the abbreviations
 * scanners and RIS use (LWS, HWS, CAP, C-SPINE...). The table is documented in
 * docs/header-terms.md; a word maps to every region it can mean ("SPINE": the three spines).
 */
export interface HeaderText {
  bodyPartExamined?: string;
  seriesDescription?: string;
  protocolName?: string;
  studyDescription?: string;
}

export interface HeaderEvidence {
  regions: Region[];
  /** Which element and which words decided (for logs and the classification output). */
  source: keyof HeaderText;
  words: string[];
}

const SPINES: Region[] = ['cspine', 'tspine', 'lspine'];

/** PS3.16 Annex L Body Part Examined terms (and the few composites scanners write). */
const BODY_PART: Record<string, Region[]> = {
  HEAD: ['head'],
  BRAIN: ['head'],
  SKULL: ['head'],
  CEREBELLUM: ['head'],
  CIRCLEOFWILLIS: ['head'],
  ORBIT: ['head'],
  EYE: ['head'],
  SELLA: ['head'],
  IAC: ['head'],
  EAR: ['head'],
  NOSE: ['head'],
  FACE: ['head'],
  MAXILLA: ['head'],
  JAW: ['head'],
  TMJ: ['head'],
  ZYGOMA: ['head'],
  MANDIBLE: ['head'],
  SINUS: ['head'],
  PITUITARY: ['head'],
  HEADNECK: ['head', 'neck'],
  NECK: ['neck'],
  LARYNX: ['neck'],
  PHARYNX: ['neck'],
  THYROID: ['neck'],
  CAROTID: ['neck'],
  PAROTID: ['neck'],
  SUBMANDIBULAR: ['neck'],
  NECKCHEST: ['neck', 'chest'],
  NECKCHESTABDOMEN: ['neck', 'chest', 'abdomen'],
  NECKCHESTABDPELV: ['neck', 'chest', 'abdomen', 'pelvis'],
  CHEST: ['chest'],
  THORAX: ['chest'],
  LUNG: ['chest'],
  HEART: ['chest'],
  MEDIASTINUM: ['chest'],
  CORONARYARTERY: ['chest'],
  BRONCHUS: ['chest'],
  RIB: ['chest'],
  STERNUM: ['chest'],
  ESOPHAGUS: ['chest'],
  THYMUS: ['chest'],
  TRACHEA: ['neck', 'chest'],
  CHESTABDOMEN: ['chest', 'abdomen'],
  CHESTABDPELVIS: ['chest', 'abdomen', 'pelvis'],
  AORTA: ['chest', 'abdomen'],
  ABDOMEN: ['abdomen'],
  LIVER: ['abdomen'],
  PANCREAS: ['abdomen'],
  KIDNEY: ['abdomen'],
  SPLEEN: ['abdomen'],
  STOMACH: ['abdomen'],
  GALLBLADDER: ['abdomen'],
  ADRENAL: ['abdomen'],
  DUODENUM: ['abdomen'],
  JEJUNUM: ['abdomen'],
  ILEUM: ['abdomen', 'pelvis'],
  COLON: ['abdomen', 'pelvis'],
  ABDOMENPELVIS: ['abdomen', 'pelvis'],
  PELVIS: ['pelvis'],
  PROSTATE: ['pelvis'],
  BLADDER: ['pelvis'],
  RECTUM: ['pelvis'],
  UTERUS: ['pelvis'],
  OVARY: ['pelvis'],
  CERVIX: ['pelvis'],
  VAGINA: ['pelvis'],
  TESTIS: ['pelvis'],
  PENIS: ['pelvis'],
  COCCYX: ['pelvis'],
  ILIUM: ['pelvis'],
  BUTTOCK: ['pelvis'],
  SACRUM: ['pelvis', 'lspine'],
  SSPINE: ['lspine', 'pelvis'],
  CSPINE: ['cspine'],
  CTSPINE: ['cspine', 'tspine'],
  TSPINE: ['tspine'],
  TLSPINE: ['tspine', 'lspine'],
  LSPINE: ['lspine'],
  LSSPINE: ['lspine'],
  SPINE: SPINES,
  WHOLESPINE: SPINES,
  SHOULDER: ['shoulder'],
  SCAPULA: ['shoulder'],
  CLAVICLE: ['shoulder'],
  ACJOINT: ['shoulder'],
  ARM: ['upperarm'],
  UPPERARM: ['upperarm'],
  HUMERUS: ['upperarm'],
  ELBOW: ['elbow'],
  FOREARM: ['forearm'],
  RADIUS: ['forearm'],
  ULNA: ['forearm'],
  HAND: ['hand'],
  WRIST: ['hand'],
  FINGER: ['hand'],
  THUMB: ['hand'],
  HIP: ['hip'],
  THIGH: ['thigh'],
  FEMUR: ['thigh'],
  KNEE: ['knee'],
  PATELLA: ['knee'],
  LEG: ['lowerleg'],
  LOWERLEG: ['lowerleg'],
  CALF: ['lowerleg'],
  TIBIA: ['lowerleg'],
  FIBULA: ['lowerleg'],
  FOOT: ['foot'],
  ANKLE: ['foot'],
  TOE: ['foot'],
  CALCANEUS: ['foot'],
  BREAST: ['breast'],
};

/**
 * Words of descriptions and protocol names (upper case, accents removed). Besides the Body
 * Part terms above: English abbreviations and the words of five other languages.
 */
const WORDS: Record<string, Region[]> = {
  // English and common RIS abbreviations
  CRANIAL: ['head'],
  CEREBRAL: ['head'],
  ORBITS: ['head'],
  SINUSES: ['head'],
  NEURO: ['head'],
  HEADNECK: ['head', 'neck'],
  SOFTTISSUENECK: ['neck'],
  CERVICAL: ['cspine'],
  CSP: ['cspine'],
  THORACIC: ['chest', 'tspine'],
  TSP: ['tspine'],
  DORSAL: ['tspine'],
  LUMBAR: ['lspine'],
  LUMBOSACRAL: ['lspine'],
  LSP: ['lspine'],
  LUNGS: ['chest'],
  CARDIAC: ['chest'],
  CORONARY: ['chest'],
  CTPA: ['chest'],
  PULMONARY: ['chest'],
  ABD: ['abdomen'],
  ABDO: ['abdomen'],
  HEPATIC: ['abdomen'],
  RENAL: ['abdomen'],
  KIDNEYS: ['abdomen'],
  PANC: ['abdomen'],
  MRCP: ['abdomen'],
  ENTEROGRAPHY: ['abdomen', 'pelvis'],
  CAP: ['chest', 'abdomen', 'pelvis'],
  TAP: ['chest', 'abdomen', 'pelvis'],
  ABDPELVIS: ['abdomen', 'pelvis'],
  ABDPEL: ['abdomen', 'pelvis'],
  PELVIC: ['pelvis'],
  PROSTATA: ['pelvis'],
  RECTAL: ['pelvis'],
  HIPS: ['hip'],
  KNEES: ['knee'],
  ANKLES: ['foot'],
  FEET: ['foot'],
  SHOULDERS: ['shoulder'],
  ELBOWS: ['elbow'],
  WRISTS: ['hand'],
  HANDS: ['hand'],
  FEMORAL: ['thigh'],
  TIBIAL: ['lowerleg'],
  HUMERAL: ['upperarm'],
  MAMMO: ['breast'],
  BREASTS: ['breast'],
  MAMMA: ['breast'],
  MAMMAE: ['breast'],
  // German
  SCHAEDEL: ['head'],
  SCHADEL: ['head'],
  KOPF: ['head'],
  HIRN: ['head'],
  GEHIRN: ['head'],
  CCT: ['head'],
  NNH: ['head'],
  FELSENBEIN: ['head'],
  HALS: ['neck'],
  HWS: ['cspine'],
  BWS: ['tspine'],
  LWS: ['lspine'],
  WS: SPINES,
  WIRBELSAEULE: SPINES,
  WIRBELSAULE: SPINES,
  LUNGE: ['chest'],
  HERZ: ['chest'],
  BAUCH: ['abdomen'],
  OBERBAUCH: ['abdomen'],
  LEBER: ['abdomen'],
  NIERE: ['abdomen'],
  NIEREN: ['abdomen'],
  BECKEN: ['pelvis'],
  SCHULTER: ['shoulder'],
  OBERARM: ['upperarm'],
  ELLENBOGEN: ['elbow'],
  ELLBOGEN: ['elbow'],
  UNTERARM: ['forearm'],
  HANDGELENK: ['hand'],
  HUEFTE: ['hip'],
  HUFTE: ['hip'],
  OBERSCHENKEL: ['thigh'],
  KNIE: ['knee'],
  KNIEGELENK: ['knee'],
  UNTERSCHENKEL: ['lowerleg'],
  FUSS: ['foot'],
  SPRUNGGELENK: ['foot'],
  OSG: ['foot'],
  BRUST: ['breast', 'chest'],
  // French
  CRANE: ['head'],
  TETE: ['head'],
  CERVEAU: ['head'],
  ENCEPHALE: ['head'],
  COU: ['neck'],
  POUMON: ['chest'],
  POUMONS: ['chest'],
  FOIE: ['abdomen'],
  BASSIN: ['pelvis'],
  RACHIS: SPINES,
  LOMBAIRE: ['lspine'],
  EPAULE: ['shoulder'],
  BRAS: ['upperarm'],
  COUDE: ['elbow'],
  AVANTBRAS: ['forearm'],
  MAIN: ['hand'],
  POIGNET: ['hand'],
  HANCHE: ['hip'],
  CUISSE: ['thigh'],
  GENOU: ['knee'],
  JAMBE: ['lowerleg'],
  PIED: ['foot'],
  CHEVILLE: ['foot'],
  SEIN: ['breast'],
  SEINS: ['breast'],
  // Italian
  CRANIO: ['head'],
  TESTA: ['head'],
  ENCEFALO: ['head'],
  CERVELLO: ['head'],
  COLLO: ['neck'],
  TORACE: ['chest'],
  POLMONE: ['chest'],
  POLMONI: ['chest'],
  ADDOME: ['abdomen'],
  FEGATO: ['abdomen'],
  BACINO: ['pelvis'],
  PELVI: ['pelvis'],
  RACHIDE: SPINES,
  CERVICALE: ['cspine'],
  DORSALE: ['tspine'],
  LOMBARE: ['lspine'],
  LOMBOSACRALE: ['lspine'],
  SPALLA: ['shoulder'],
  BRACCIO: ['upperarm'],
  GOMITO: ['elbow'],
  AVAMBRACCIO: ['forearm'],
  MANO: ['hand'],
  POLSO: ['hand'],
  ANCA: ['hip'],
  COSCIA: ['thigh'],
  GINOCCHIO: ['knee'],
  GAMBA: ['lowerleg'],
  PIEDE: ['foot'],
  CAVIGLIA: ['foot'],
  MAMMELLA: ['breast'],
  SENO: ['breast'],
  // Spanish
  CRANEO: ['head'],
  CABEZA: ['head'],
  CEREBRO: ['head'],
  CUELLO: ['neck'],
  TORAX: ['chest'],
  PULMON: ['chest'],
  PULMONES: ['chest'],
  ABDOMINAL: ['abdomen'],
  HIGADO: ['abdomen'],
  COLUMNA: SPINES,
  HOMBRO: ['shoulder'],
  BRAZO: ['upperarm'],
  CODO: ['elbow'],
  ANTEBRAZO: ['forearm'],
  MUNECA: ['hand'],
  CADERA: ['hip'],
  MUSLO: ['thigh'],
  RODILLA: ['knee'],
  PIERNA: ['lowerleg'],
  PIE: ['foot'],
  TOBILLO: ['foot'],
  MAMA: ['breast'],
  MAMAS: ['breast'],
  // Dutch
  SCHEDEL: ['head'],
  HOOFD: ['head'],
  HERSENEN: ['head'],
  LONGEN: ['chest'],
  BUIK: ['abdomen'],
  LEVER: ['abdomen'],
  BEKKEN: ['pelvis'],
  CWK: ['cspine'],
  THWK: ['tspine'],
  LWK: ['lspine'],
  WERVELKOLOM: SPINES,
  SCHOUDER: ['shoulder'],
  BOVENARM: ['upperarm'],
  ELLEBOOG: ['elbow'],
  ONDERARM: ['forearm'],
  POLS: ['hand'],
  HEUP: ['hip'],
  BOVENBEEN: ['thigh'],
  ONDERBEEN: ['lowerleg'],
  VOET: ['foot'],
  ENKEL: ['foot'],
  BORST: ['breast', 'chest'],
};

/** Two-word phrases read as one ("C SPINE", "RACHIS CERVICAL", "COLUMNA LUMBAR"). */
const PHRASES: Record<string, Region[]> = {
  'C SPINE': ['cspine'],
  'T SPINE': ['tspine'],
  'L SPINE': ['lspine'],
  'CERVICAL SPINE': ['cspine'],
  'THORACIC SPINE': ['tspine'],
  'LUMBAR SPINE': ['lspine'],
  'RACHIS CERVICAL': ['cspine'],
  'RACHIS DORSAL': ['tspine'],
  'RACHIS LOMBAIRE': ['lspine'],
  'COLUMNA CERVICAL': ['cspine'],
  'COLUMNA DORSAL': ['tspine'],
  'COLUMNA LUMBAR': ['lspine'],
  'RACHIDE CERVICALE': ['cspine'],
  'RACHIDE DORSALE': ['tspine'],
  'RACHIDE LOMBARE': ['lspine'],
  'UPPER ARM': ['upperarm'],
  'LOWER LEG': ['lowerleg'],
  'SOFT TISSUE NECK': ['neck'],
  'AVANT BRAS': ['forearm'],
  'CHEST ABDOMEN': ['chest', 'abdomen'],
  'ABDOMEN PELVIS': ['abdomen', 'pelvis'],
};

/** Upper case, accents and ß folded, everything but letters and digits a space. */
export function normalizeHeaderText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'SS')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

/** The regions named by one text, with the words that named them. */
export function regionsInText(text: string | undefined): { regions: Region[]; words: string[] } {
  const norm = normalizeHeaderText(text ?? '');
  if (!norm) return { regions: [], words: [] };
  const tokens = norm.split(' ');
  const regions = new Set<Region>();
  const words: string[] = [];
  const used = new Set<number>();
  for (let i = 0; i + 1 < tokens.length; i++) {
    const hit = PHRASES[`${tokens[i]} ${tokens[i + 1]}`];
    if (hit) {
      hit.forEach((r) => regions.add(r));
      words.push(`${tokens[i]} ${tokens[i + 1]}`);
      used.add(i).add(i + 1);
    }
  }
  tokens.forEach((t, i) => {
    if (used.has(i)) return;
    const hit = BODY_PART[t] ?? WORDS[t];
    if (hit) {
      hit.forEach((r) => regions.add(r));
      words.push(t);
    }
  });
  return { regions: [...regions], words };
}

/** The header's evidence, from the most specific element that names a region; undefined when none does. */
export function headerEvidence(h: HeaderText): HeaderEvidence | undefined {
  const bodyPart = normalizeHeaderText(h.bodyPartExamined ?? '').replace(/ /g, '');
  if (bodyPart && BODY_PART[bodyPart]) return { regions: [...BODY_PART[bodyPart]], source: 'bodyPartExamined', words: [bodyPart] };
  for (const source of ['seriesDescription', 'protocolName', 'studyDescription'] as const) {
    const found = regionsInText(h[source]);
    if (found.regions.length) return { regions: found.regions, source, words: found.words };
  }
  return undefined;
}

/** Every table, for documentation and tests. */
export const HEADER_TABLES = { bodyPart: BODY_PART, words: WORDS, phrases: PHRASES } as const;
