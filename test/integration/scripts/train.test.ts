import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticImage } from '../../helpers/synthetic-dicom';
import { PYTHON, requirePythonModules } from '../../helpers/tools';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TRAIN = join(ROOT, 'scripts', 'training', 'train.py');
/** A few steps of a small batch: what is tested is the driver (folds, processes, recipe check), not accuracy. */
const TINY = ['--epochs', '1', '--samples-per-epoch', '32', '--batch', '16', '--threads', '1'];

/**
 * scripts/training/train.py on a tiny export of synthetic images (four groups, two regions): the
 * cross-validation's bookkeeping, that --jobs changes no bit of the result, that a shipped run alone
 * reproduces the weights from the .cv.json of the same recipe and refuses one of another recipe.
 */
describe('scripts/training/train.py (tiny synthetic export)', function () {
  this.timeout(180000);
  let tmp: string;
  let exported: string;

  const train = (out: string, ...args: string[]) =>
    spawnSync(PYTHON, [TRAIN, '--export', exported, '--out', out, ...TINY, ...args], { encoding: 'utf8', cwd: ROOT });

  before(function () {
    requirePythonModules(this, 'numpy', 'torch');
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-train-'));
    const images = join(tmp, 'images');
    mkdirSync(images);
    const rows = ['path,modality,region,plane,intensity,subject,source,license,group'];
    for (const group of ['g1', 'g2', 'g3', 'g4'])
      for (const [region, modality, size] of [
        ['head', 'CT', 64],
        ['chest', 'MR', 96],
      ] as const)
        for (let z = 0; z < 5; z++) {
          const name = `${group}-${region}-${z}.dcm`;
          writeFileSync(join(images, name), syntheticImage({ rows: size, columns: size, modality, z }).bytes);
          rows.push(`${name},${modality},${region},axial,${modality === 'CT' ? 'hu' : 'mr'},${group}-s,test,test,${group}`);
        }
    // two coronal chests in one group only: no fold that holds them out has trained on one
    for (let z = 0; z < 2; z++) {
      writeFileSync(join(images, `g1-coronal-${z}.dcm`), syntheticImage({ rows: 96, columns: 96, modality: 'MR', z }).bytes);
      rows.push(`g1-coronal-${z}.dcm,MR,chest,coronal,mr,g1-s,test,test,g1`);
    }
    writeFileSync(join(tmp, 'manifest.csv'), rows.join('\n') + '\n');
    exported = join(tmp, 'export');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'src', 'cli.js'), 'dataset', 'export', '--labels', join(tmp, 'manifest.csv'), '--images', images, '--out', exported],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).to.equal(0);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('cross-validates over whole groups, then ships; --jobs 2 gives the same bits as one fit at a time', () => {
    const one = join(tmp, 'one');
    const two = join(tmp, 'two');
    const a = train(one, '--cv', '2', '--jobs', '1');
    expect(a.status, a.stderr).to.equal(0);
    const b = train(two, '--cv', '2', '--jobs', '2');
    expect(b.status, b.stderr).to.equal(0);
    expect(readFileSync(join(one, 'bodyregion-cnn.onnx')).equals(readFileSync(join(two, 'bodyregion-cnn.onnx'))), 'same ONNX').to.equal(true);
    const [cvOne, cvTwo] = [one, two].map((d) => JSON.parse(readFileSync(join(d, 'bodyregion-cnn.cv.json'), 'utf8')));
    expect(cvOne.predictions).to.deep.equal(cvTwo.predictions);
    expect(cvOne.classes).to.deep.equal(['head', 'chest']);
    // every group in one fold, each fold holding out whole groups
    expect(Object.keys(cvOne.foldOfGroup).sort()).to.deep.equal(['g1', 'g2', 'g3', 'g4']);
    expect(new Set(Object.values(cvOne.foldOfGroup))).to.deep.equal(new Set([0, 1]));
    expect(cvOne.recipe).to.include.keys('seed', 'epochs', 'recipe.py');
    // each fold trains on two groups' 10 axial images of each region; the coronal chests have no match
    expect(cvOne.report.seenAlike).to.include({ minImages: 10, n: 40, share: 40 / 42 });
    expect(cvOne.report.seenAlike.largestUnmatched).to.deep.equal([{ region: 'chest', plane: 'coronal', n: 2 }]);
    const manifest = JSON.parse(readFileSync(join(one, 'bodyregion-cnn.json'), 'utf8'));
    expect(manifest.classes).to.deep.equal(['head', 'chest']);
    expect(manifest.temperature).to.equal(cvOne.temperature);
  });

  it('retrains the shipped weights alone, bit for bit, from the .cv.json of the same recipe, and refuses another recipe', () => {
    const out = join(tmp, 'shipped');
    expect(train(out, '--cv', '2').status).to.equal(0);
    const shipped = readFileSync(join(out, 'bodyregion-cnn.onnx'));
    rmSync(join(out, 'bodyregion-cnn.onnx'));
    const again = train(out);
    expect(again.status, again.stderr).to.equal(0);
    expect(readFileSync(join(out, 'bodyregion-cnn.onnx')).equals(shipped), 'same ONNX as the run with --cv').to.equal(true);

    const cvPath = join(out, 'bodyregion-cnn.cv.json');
    const cv = JSON.parse(readFileSync(cvPath, 'utf8'));
    writeFileSync(cvPath, JSON.stringify({ ...cv, recipe: { ...cv.recipe, 'recipe.py': '0000000000000000' } }));
    const refused = train(out);
    expect(refused.status).to.not.equal(0);
    expect(refused.stderr).to.match(/was made by another recipe or class list: run with --cv K again/);
  });

  it('--trial-folds trains and scores only the folds named, per held-out group, and writes nothing; refuses a fold that is not one in one line', () => {
    const out = join(tmp, 'trial');
    const r = train(out, '--cv', '2', '--trial-folds', '2');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^fold 2: top-1 \d\.\d{4} on 2[02] held-out images$/m);
    expect(r.stdout).to.not.match(/^fold 1:/m);
    expect(r.stdout.match(/^ {2}g\d: top-1 \d\.\d{4} on 1[02]$/gm)).to.have.length(2);
    expect(existsSync(out) ? readdirSync(out) : []).to.deep.equal([]);
    for (const bad of [
      ['--cv', '2', '--trial-folds', '3'],
      ['--trial-folds', '1'],
      ['--cv', '2', '--trial-folds', 'two'],
    ]) {
      const refused = train(out, ...bad);
      expect(refused.status, bad.join(' ')).to.equal(1);
      expect(refused.stderr.trim().split('\n'), bad.join(' ')).to.have.length(1);
      expect(refused.stderr).to.match(/^--trial-folds \S+: fold numbers from 1 to K of --cv K/);
    }
  });
});
