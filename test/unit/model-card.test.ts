import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

describe('models/README.md (the model card)', function () {
  this.timeout(30000);

  it('is what scripts/model-card.ts makes of the committed manifest, .cv.json and .seeds.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bodyroute-card-'));
    try {
      const out = join(dir, 'README.md');
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'model-card.js'), join(ROOT, 'models', 'bodyregion-cnn.json'), out], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).to.equal(0);
      // regenerate with: node dist/scripts/model-card.js models/bodyregion-cnn.json models/README.md
      expect(readFileSync(out, 'utf8') === readFileSync(join(ROOT, 'models', 'README.md'), 'utf8'), 'the committed card is out of date').to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
