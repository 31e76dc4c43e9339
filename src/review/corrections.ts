import { promises as fsp } from 'node:fs';
import { isRegion, Region } from '../regions/region';
import { SeriesInstance } from './recent-series';

/** The columns of <spool>/corrections.csv (`bodyroute dataset corrections` reads them). */
export const CORRECTION_COLUMNS = ['time', 'studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid', 'correctedRegion', 'modelRegion'] as const;

/**
 * An operator's label correction, appended to <spool>/corrections.csv: one row per instance of
 * the series (or one row with an empty SOP Instance UID standing for the whole series, when it
 * had more instances than were remembered). It changes nothing that was already sent; it is
 * labelled data for retraining (models/README.md, "Retrain on your own corrected archive").
 */
export async function appendCorrection(
  path: string,
  series: { studyInstanceUid: string; seriesInstanceUid: string; instances: readonly SeriesInstance[]; complete: boolean },
  corrected: Region,
  at = new Date(),
): Promise<number> {
  if (!isRegion(corrected)) throw new Error(`"${String(corrected)}" is not a region`);
  const time = at.toISOString();
  const rows = series.complete
    ? series.instances.map((i) => [time, series.studyInstanceUid, series.seriesInstanceUid, i.sopInstanceUid, corrected, i.imageRegion ?? ''])
    : [[time, series.studyInstanceUid, series.seriesInstanceUid, '', corrected, '']];
  const exists = await fsp.stat(path).then(
    () => true,
    () => false,
  );
  const text = (exists ? '' : CORRECTION_COLUMNS.join(',') + '\n') + rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  const handle = await fsp.open(path, 'a', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return rows.length;
}

/** A CSV field (RFC 4180): quoted only where it holds a quote, a comma or a line break. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
