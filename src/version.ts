import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read once from package.json (dist/src/ → ../../package.json). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
