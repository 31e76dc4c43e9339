import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** fsync a directory so that a rename or unlink inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` via a temporary file, fsync and rename: readers see all or nothing. */
export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await fsp.open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path);
}

/**
 * fsync of one directory that is synced often (the spool's inbox and store): its handle is opened
 * once and kept, so each sync is one thread-pool hop instead of three (open, fsync, close).
 */
export class DirectorySync {
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly dir: string) {}

  async sync(): Promise<void> {
    this.handle ??= fsp.open(this.dir, 'r');
    let h: FileHandle;
    try {
      h = await this.handle;
    } catch (err) {
      this.handle = undefined; // not there yet: the next call tries again
      throw err;
    }
    await h.sync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await (await h?.catch(() => undefined))?.close();
  }
}
