import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, jsonLogLines, startBodyroute } from '../helpers/bodyroute-process';
import { writeTestModel } from '../helpers/onnx-builder';
import { rawImage, str } from '../helpers/synthetic-dicom';
import { run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

/** A CT image whose group 0077 has every private creator slot (0010–00FF) taken by another vendor. */
function fullPrivateGroup(path: string): Buffer {
  const creators = Array.from({ length: 0xf0 }, (_, i) => str(((0x0077 << 16) | (0x10 + i)) >>> 0, 'LO', `OTHER VENDOR ${i}`));
  const { bytes } = rawImage({ rows: 16, columns: 16, stored: new Array(256).fill(1024), rescale: { slope: 1, intercept: -1024 }, extra: creators });
  writeFileSync(path, bytes);
  return bytes;
}

const dcmFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.dcm'))
    : [];

describe('tagging.onFailure: an object the label cannot be written into is never held back', function () {
  this.timeout(60000);
  const fx = suiteFixture('tagfail', 'storescu');
  let br: BodyrouteProcess | undefined;

  afterEach(async () => {
    await br?.kill();
    br = undefined;
  });

  for (const onFailure of ['forward-untagged', 'quarantine'] as const) {
    it(`${onFailure}: no retry loop, one log line, the object ${onFailure === 'quarantine' ? 'quarantined with the reason' : 'forwarded unchanged'}`, async () => {
      const dir = join(fx.tmp, onFailure);
      const model = writeTestModel(fx.tmp, `tiny-${onFailure}`, { layers: 1, channels: 4, kernel: 3, unknownThreshold: 0 });
      br = await startBodyroute(
        fx.tmp,
        {
          listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
          spool: { dir: join(dir, 'spool'), minFreeBytes: 0 },
          classifier: { enabled: true, model },
          tagging: { mode: 'image', onFailure },
          logging: { format: 'json', level: 'info' },
          destinations: [{ name: 'archive', type: 'folder', path: join(dir, 'archive') }],
          routes: [{ to: ['archive'] }],
        },
        onFailure,
      );
      const input = join(fx.tmp, `${onFailure}-full.dcm`);
      const sent = fullPrivateGroup(input);
      run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), input]);
      const b = br;
      if (onFailure === 'forward-untagged') {
        await waitFor('the object in the archive', () => dcmFiles(join(dir, 'archive')).length === 1, 15000);
        const [file] = dcmFiles(join(dir, 'archive'));
        const forwarded = readFileSync(join(dir, 'archive', file));
        // the dataset as received (the folder destination writes its own file meta)
        expect(forwarded.subarray(forwarded.length - 4000).equals(sent.subarray(sent.length - 4000))).to.equal(true);
        await waitFor('the warning', () => jsonLogLines(b).some((l) => l.message.startsWith('forwarded without the label')), 5000, 20);
      } else {
        await waitFor('the object in quarantine', () => dcmFiles(join(dir, 'spool', 'quarantine')).length === 1, 15000);
        const reason = readFileSync(join(dir, 'spool', 'quarantine', dcmFiles(join(dir, 'spool', 'quarantine'))[0].replace(/\.dcm$/, '.txt')), 'utf8');
        expect(reason).to.match(/^tagging: cannot write the label: no free private block in group 0077/);
        expect(dcmFiles(join(dir, 'archive'))).to.deep.equal([]);
      }
      // not retried: no pipeline error line, ever
      await new Promise((r) => setTimeout(r, 1500));
      expect(jsonLogLines(b).filter((l) => l.message.startsWith('pipeline error'))).to.deep.equal([]);
    });
  }
});
