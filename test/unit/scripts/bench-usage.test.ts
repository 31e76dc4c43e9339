import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', '..', '..', 'scripts', 'bench');

describe('scripts/bench: a wrong option', () => {
  for (const [file, script] of [
    ['pipeline.js', 'npm run bench'],
    ['classify.js', 'npm run bench:classify'],
    ['classify-throughput.js', 'npm run bench:throughput'],
    ['spool-commit.js', 'npm run bench:spool'],
    ['jpeg2000-reduced.js', 'npm run bench:j2k'],
    ['threads.js', 'npm run bench:threads'],
  ]) {
    it(`${script}: one line naming the option, exit 2, no stack trace`, () => {
      const r = spawnSync(process.execPath, [join(BENCH, file), '--no-such-option'], { encoding: 'utf8', timeout: 20000 });
      expect(r.status).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(new RegExp(`^${script}: Unknown option '--no-such-option'`));
    });
  }
});
