import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingNodeFlags, SERVE_NODE_FLAGS } from '../../src/node-flags';

const ROOT = join(__dirname, '..', '..', '..');

describe('node flags for serve', () => {
  it('names the flags node was started without; another value of the same option counts as given', () => {
    expect(missingNodeFlags([])).to.deep.equal([...SERVE_NODE_FLAGS]);
    expect(missingNodeFlags(['--inspect', ...SERVE_NODE_FLAGS])).to.deep.equal([]);
    expect(missingNodeFlags(['--initial-old-space-size=256'])).to.deep.equal([]);
    expect(missingNodeFlags(['--initial_old_space_size=32'])).to.deep.equal([]);
    expect(missingNodeFlags(['--max-old-space-size=64'])).to.deep.equal([...SERVE_NODE_FLAGS]);
  });

  it('every launcher passes them: npm start, the cli #! line, the systemd unit', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const shebang = readFileSync(join(ROOT, 'dist', 'src', 'cli.js'), 'utf8').split('\n')[0];
    const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(join(ROOT, 'deploy', 'bodyroute.service'), 'utf8'))?.[1] ?? '';
    expect(shebang).to.match(/^#!\/usr\/bin\/env -S node /);
    for (const [launcher, line] of Object.entries({ 'npm start': pkg.scripts.start, '#!': shebang, ExecStart: execStart })) {
      const beforeScript = line.split(/\S*cli\.js/)[0].split(/\s+/);
      expect(missingNodeFlags(beforeScript), launcher).to.deep.equal([]);
    }
  });
});
