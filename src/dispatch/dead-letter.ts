import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteError, errorMessage } from '../errors';
import { writeObjectFile } from '../spool/dataset-edits';
import { writeFileAtomic } from '../fs/durable';
import { DeliveryItem } from './delivery-item';

/**
 * Objects a destination will not take (non-retryable status, or attempts exhausted):
 * <spool>/dead/<destination>/<id>.dcm with <id>.json saying why.
 */
export interface DeadLetterRecord {
  id: string;
  destination: string;
  sopInstanceUid: string;
  attempts: number;
  code: string;
  /** The destination's own status, as its protocol writes it ("0xA700" for DIMSE). */
  status?: string;
  reason: string;
  at: string;
}

export class DeadLetterBox {
  constructor(private readonly dir: string) {}

  async put(destination: string, item: DeliveryItem, err: unknown, attempts: number): Promise<DeadLetterRecord> {
    const folder = join(this.dir, destination);
    await fsp.mkdir(folder, { recursive: true, mode: 0o700 });
    const target = join(folder, `${item.id}.dcm`);
    if (item.edits) {
      // the object as the destination refused it: the spool's file meta + the edited dataset
      await writeEdited(item, target);
    } else {
      await fsp.link(item.path, target).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') return;
        await fsp.copyFile(item.path, target);
      });
    }
    const record: DeadLetterRecord = {
      id: item.id,
      destination,
      sopInstanceUid: item.sopInstanceUid,
      attempts,
      code: err instanceof BodyrouteError ? err.code : 'INTERNAL',
      status: err instanceof BodyrouteError ? err.peerStatus : undefined,
      reason: errorMessage(err),
      at: new Date().toISOString(),
    };
    await writeFileAtomic(join(folder, `${item.id}.json`), JSON.stringify(record, null, 2) + '\n');
    return record;
  }
}

async function writeEdited(item: DeliveryItem, target: string): Promise<void> {
  const meta = Buffer.alloc(item.datasetOffset);
  const src = await fsp.open(item.path, 'r');
  try {
    await src.read(meta, 0, meta.length, 0);
  } finally {
    await src.close();
  }
  await writeObjectFile(target, `${target}.tmp`, meta, item);
}

/**
 * The dead letters now in <spool>/dead/, newest first: at most `limit` records, and how many there are.
 * Only the newest `limit` records are read (ids begin with their receive time), so a page that asks every
 * few seconds costs the same with ten thousand dead letters as with ten.
 */
export async function listDeadLetters(deadDir: string, limit: number): Promise<{ records: DeadLetterRecord[]; total: number }> {
  const files: { folder: string; name: string }[] = [];
  for (const destination of await fsp.readdir(deadDir).catch(() => [] as string[])) {
    const folder = join(deadDir, destination);
    for (const name of await fsp.readdir(folder).catch(() => [] as string[])) if (name.endsWith('.json')) files.push({ folder, name });
  }
  files.sort((a, b) => b.name.localeCompare(a.name));
  const records: DeadLetterRecord[] = [];
  for (const f of files.slice(0, limit)) {
    try {
      records.push(JSON.parse(await fsp.readFile(join(f.folder, f.name), 'utf8')) as DeadLetterRecord);
    } catch {
      // being written or removed by a requeue right now: the next look sees it
    }
  }
  records.sort((a, b) => b.at.localeCompare(a.at));
  return { records, total: files.length };
}
