import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySync } from '../../../src/fs/durable';

describe('fs/directory-sync', () => {
  it('syncs a folder through one handle kept open, tries again when the folder was not there yet, and closes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'bodyroute-dirsync-'));
    try {
      const dir = join(tmp, 'inbox');
      const d = new DirectorySync(dir);
      await d.sync().then(
        () => expect.fail('synced a folder that does not exist'),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
      );
      mkdirSync(dir);
      await d.sync();
      await d.sync();
      await d.close();
      await d.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
