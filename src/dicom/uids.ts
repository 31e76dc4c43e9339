/** UID validation and the SOP classes bodyroute serves. */

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
export const APPLICATION_CONTEXT_NAME = '1.2.840.10008.3.1.1.1';

/** bodyroute's implementation class UID (2.25 = UUID-derived root, PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.140427339170596722374283640766524307795';

/** UIDs arrive padded with a trailing NUL (or, from sloppy peers, a space); strip only that padding. */
export function trimUidPadding(value: string): string {
  return value.replace(/[\0 ]+$/, '');
}

/**
 * Storage SOP classes of PS3.4 Annex B live under 1.2.840.10008.5.1.4.1.1 with a few
 * siblings elsewhere in 5.1.4; query/retrieve (5.1.4.1.2) and worklist (5.1.4.31) are not storage.
 */
const STORAGE_PREFIXES = ['1.2.840.10008.5.1.4.1.1.'];
const OTHER_STORAGE_CLASSES = new Set([
  '1.2.840.10008.5.1.4.34.7', // RT Beams Delivery Instruction Storage
  '1.2.840.10008.5.1.4.34.10', // RT Brachy Application Setup Delivery Instruction Storage
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
]);

export function isStandardStorageSopClass(uid: string): boolean {
  return OTHER_STORAGE_CLASSES.has(uid) || STORAGE_PREFIXES.some((p) => uid.startsWith(p));
}

/**
 * What the router accepts from the wire: digits and dots, no empty component, at most
 * 64 characters. Leading zeros (seen from real scanners) are tolerated; anything that
 * could act as a path or inject text is not.
 */
export function isSafeUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}

/**
 * Image storage SOP classes whose modality is known from the class alone: an object whose
 * Modality element is non-standard ("MRI") or empty is still a CT or MR image (PS3.4 B.5).
 */
export const IMAGE_SOP_CLASS_MODALITY: Readonly<Record<string, 'CT' | 'MR'>> = {
  '1.2.840.10008.5.1.4.1.1.2': 'CT', // CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.1': 'CT', // Enhanced CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.2': 'CT', // Legacy Converted Enhanced CT Image Storage
  '1.2.840.10008.5.1.4.1.1.4': 'MR', // MR Image Storage
  '1.2.840.10008.5.1.4.1.1.4.1': 'MR', // Enhanced MR Image Storage
  '1.2.840.10008.5.1.4.1.1.4.3': 'MR', // Enhanced MR Color Image Storage
  '1.2.840.10008.5.1.4.1.1.4.4': 'MR', // Legacy Converted Enhanced MR Image Storage
};
