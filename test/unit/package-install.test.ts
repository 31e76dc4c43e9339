import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

describe('npm install policy', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

  it("denies onnxruntime-node's install script, which fetches the CUDA provider from outside npm and fails offline", () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).to.equal(false);
  });

  it('carries no .npmrc key of its own (npm 11 warns "Unknown project config" on every npm ci)', () => {
    const npmrc = join(ROOT, '.npmrc');
    const keys = existsSync(npmrc)
      ? readFileSync(npmrc, 'utf8')
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'))
          .map((line) => line.split('=')[0]!.trim())
      : [];
    expect(keys.filter((k) => k.startsWith('onnxruntime'))).to.deep.equal([]);
  });
});
