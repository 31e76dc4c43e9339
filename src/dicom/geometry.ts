/** Slice geometry from Image Position / Orientation (Patient). */

/** Position along the normal of the image plane: dot(IPP, row × column). */
export function slicePosition(imagePosition?: string, imageOrientation?: string): number | undefined {
  const p = imagePosition?.split('\\').map(Number);
  const o = imageOrientation?.split('\\').map(Number);
  if (!p || !o || p.length !== 3 || o.length !== 6 || [...p, ...o].some((v) => !Number.isFinite(v))) return undefined;
  const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
  return p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
}
