import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suiteFixture } from '../helpers/suite-fixture';

const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'cuda-install.sh');
const ORT_VERSION = (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;

describe('npm run cuda:install: the CUDA provider from an npm tarball, refused unless built for our ONNX Runtime', function () {
  this.timeout(60000);
  const fx = suiteFixture('cuda', 'tar');

  /**
   * A tarball laid out like com.github.asus4.onnxruntime.linux-x64-gpu, its provider carrying `version`:
   * gzip as `npm pack` makes it, or xz as scripts/bench/make-gpu-bundle.sh --cuda repacks it.
   */
  function providerTarball(name: string, version: string, compression: 'gz' | 'xz' = 'gz'): string {
    const root = join(fx.tmp, name);
    const libs = join(root, 'package', 'Plugins', 'Linux', 'x64');
    mkdirSync(libs, { recursive: true });
    writeFileSync(
      join(libs, 'libonnxruntime_providers_cuda.so'),
      Buffer.concat([Buffer.from('\x7fELF fake provider\0ORT_VERSION\0'), Buffer.from(`${version}\0`), Buffer.alloc(64)]),
    );
    writeFileSync(join(libs, 'libonnxruntime_providers_shared.so'), 'shared');
    const tarball = join(fx.tmp, compression === 'gz' ? `${name}.tgz` : `${name}.tar.xz`);
    expect(spawnSync('tar', [compression === 'gz' ? '-czf' : '-cJf', tarball, '-C', root, 'package']).status).to.equal(0);
    return tarball;
  }

  function install(tgz: string, bindingDir: string) {
    mkdirSync(bindingDir, { recursive: true });
    writeFileSync(join(bindingDir, 'libonnxruntime.so.1'), 'runtime');
    return spawnSync('bash', [SCRIPT, '--from', tgz], { encoding: 'utf8', env: { ...process.env, BODYROUTE_ORT_BINDING_DIR: bindingDir } });
  }

  it('refuses, loudly and without copying, a provider built for another ONNX Runtime', () => {
    const dir = join(fx.tmp, 'binding-wrong');
    const r = install(providerTarball('wrong', '1.28.0'), dir);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`refused: the CUDA provider in wrong\\.tgz was not built for ONNX Runtime ${ORT_VERSION.replace(/\./g, '\\.')}`));
    expect(existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))).to.equal(false);
  });

  it("puts a matching provider's two libraries next to the binding", () => {
    const dir = join(fx.tmp, 'binding-right');
    const r = install(providerTarball('right', ORT_VERSION), dir);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`installed the CUDA provider of ONNX Runtime ${ORT_VERSION}`);
    expect(existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))).to.equal(true);
    expect(readFileSync(join(dir, 'libonnxruntime_providers_shared.so'), 'utf8')).to.equal('shared');
  });

  it('takes the xz tarball the GPU bundle carries in parts as well', () => {
    const dir = join(fx.tmp, 'binding-xz');
    const r = install(providerTarball('bundled', ORT_VERSION, 'xz'), dir);
    expect(r.status, r.stderr).to.equal(0);
    expect(existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))).to.equal(true);
  });
});
