import { close, fsync, open, promises as fsp } from 'node:fs';
import { promisify } from 'node:util';

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
 * fsync of one directory that is synced often (the spool's inbox and store): its descriptor is opened
 * once and kept, so each sync is one thread-pool hop instead of three (open, fsync, close). A plain
 * descriptor rather than a FileHandle: a spool dropped without close() (tests) must not leave a
 * handle for the garbage collector to close with a warning.
 */
export class DirectorySync {
  private fd: Promise<number> | undefined;

  constructor(private readonly dir: string) {}

  async sync(): Promise<void> {
    this.fd ??= openDescriptor(this.dir, 'r');
    let fd: number;
    try {
      fd = await this.fd;
    } catch (err) {
      this.fd = undefined; // not there yet: the next call tries again
      throw err;
    }
    await fsyncDescriptor(fd);
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    const n = await fd?.catch(() => undefined);
    if (n !== undefined) await closeDescriptor(n);
  }
}

const openDescriptor = promisify(open);
const fsyncDescriptor = promisify(fsync);
const closeDescriptor = promisify(close);
