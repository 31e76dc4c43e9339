import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FolderDestinationConfig } from './destinations/folder';
import { buildFileMetaHeader } from '../dicom/part10';
import { isSafeUid } from '../dicom/uids';
import { BodyrouteError, errorMessage } from '../errors';
import { writeObjectFile } from '../spool/dataset-edits';
import { fsyncDir } from '../fs/durable';
import { DeliveryItem } from './delivery-item';
import { Sender } from './sender';

/**
 * Writes Part-10 files in a study/series layout: <path>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm.
 * A UID that is missing or unsafe as a path component is replaced by the spool id.
 */
export class FolderSender implements Sender {
  readonly description: string;

  constructor(private readonly dest: FolderDestinationConfig) {
    this.description = dest.path;
  }

  targetPath(item: DeliveryItem): string {
    const safe = (uid: string | undefined, fallback: string) => (uid && isSafeUid(uid) ? uid : fallback);
    return join(
      this.dest.path,
      safe(item.studyInstanceUid, 'unknown-study'),
      safe(item.seriesInstanceUid, 'unknown-series'),
      `${safe(item.sopInstanceUid, item.id)}.dcm`,
    );
  }

  async send(item: DeliveryItem): Promise<void> {
    const target = this.targetPath(item);
    try {
      await fsp.mkdir(dirname(target), { recursive: true, mode: 0o700 });
      // a clean file meta: bodyroute's private receive record stays in the spool
      const meta = buildFileMetaHeader({ sopClassUid: item.sopClassUid, sopInstanceUid: item.sopInstanceUid, transferSyntaxUid: item.transferSyntaxUid });
      await writeObjectFile(target, `${target}.${item.id}.tmp`, meta, item);
      await fsyncDir(dirname(target));
    } catch (err) {
      throw new BodyrouteError('DEST_IO', `cannot write ${target}: ${errorMessage(err)}`, true);
    }
  }

  async idle(): Promise<void> {}

  async close(): Promise<void> {}
}
