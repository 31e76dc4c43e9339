import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { syntheticImage } from '../helpers/synthetic-dicom';
import { run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

describe('dispatch: several associations per destination (destinations[].associations)', function () {
  this.timeout(60000);
  const fx = suiteFixture('parallel', 'storescu');
  let dest: ScriptedScp | undefined;
  let br: BodyrouteProcess | undefined;

  for (const associations of [1, 3]) {
    it(`sends over ${associations} association(s) at once, each object exactly once`, async () => {
      await br?.kill();
      await dest?.stop();
      // a slow destination: each answer takes 300 ms, so objects pile up behind it
      dest = await startScriptedScp(() => 0, { delayMs: 300 });
      br = await startBodyroute(
        fx.tmp,
        {
          listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
          spool: { dir: join(fx.tmp, `spool${associations}`), minFreeBytes: 0 },
          destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS', associations }],
          routes: [{ to: ['pacs'] }],
        },
        `bodyroute-${associations}`,
      );
      const dir = join(fx.tmp, `in${associations}`);
      mkdirSync(dir);
      const uids = Array.from({ length: 9 }, (_, i) => {
        const img = syntheticImage({ rows: 32, columns: 32, z: i });
        writeFileSync(join(dir, `${i}.dcm`), img.bytes);
        return img.sopInstanceUid;
      });
      run('storescu', ['-aec', 'BODYROUTE', '+sd', '127.0.0.1', String(br.port), dir]);
      const d = dest;
      await waitFor('every object delivered', () => d.stored.length >= uids.length, 20000);
      await new Promise((r) => setTimeout(r, 500));
      expect(new Set(d.stored)).to.deep.equal(new Set(uids));
      expect([...d.calls.values()].every((n) => n === 1)).to.equal(true);
      if (associations === 1) expect(d.maxInFlight()).to.equal(1);
      else expect(d.maxInFlight()).to.be.within(2, associations);
    });
  }
});
