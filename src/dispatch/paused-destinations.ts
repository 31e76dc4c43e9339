import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from '../fs/durable';

/**
 * Which destinations an operator paused, in <spool>/paused.json, so that a pause survives a
 * restart and `bodyroute destination pause NAME` reaches the running router (it reads the file
 * again when it changes).
 */
export class PausedDestinations {
  private mtimeMs = -1;

  constructor(private readonly path: string) {}

  async read(): Promise<Set<string>> {
    try {
      const parsed: unknown = JSON.parse(await fsp.readFile(this.path, 'utf8'));
      return new Set(Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : []);
    } catch {
      return new Set();
    }
  }

  /** The set when the file changed since the last call (or on the first call); undefined otherwise. */
  async readIfChanged(): Promise<Set<string> | undefined> {
    const mtimeMs = await fsp.stat(this.path).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (mtimeMs === this.mtimeMs) return undefined;
    this.mtimeMs = mtimeMs;
    return this.read();
  }

  async set(name: string, paused: boolean): Promise<Set<string>> {
    const names = await this.read();
    if (paused) names.add(name);
    else names.delete(name);
    await writeFileAtomic(this.path, JSON.stringify([...names].sort()) + '\n');
    return names;
  }
}
