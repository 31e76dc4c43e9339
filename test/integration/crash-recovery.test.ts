import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { storescpConfig, BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { freePort, waitFor } from '../helpers/tools';
import { sendAndKill } from '../helpers/send-and-kill';
import { suiteFixture } from '../helpers/suite-fixture';

const OBJECTS = 500;

describe('kill -9 while objects arrive: every acknowledged object is delivered after restart', function () {
  this.timeout(240000);
  const fx = suiteFixture('crash', 'storescu', 'storescp');
  let scp: StorescpPeer | undefined;
  let br: BodyrouteProcess | undefined;

  it(`loses nothing that got a success response (${OBJECTS} objects, kill -9 at a random moment)`, async () => {
    // The destination comes up only after the restart, so every acknowledged object must
    // survive the crash in the spool and its journal, not in flight to the destination.
    const scpPort = await freePort();
    const { files, uidOf } = writeSyntheticSeries(join(fx.tmp, 'in'), OBJECTS, { rows: 256, columns: 256 });
    const config = storescpConfig(fx.tmp, scpPort);
    br = await startBodyroute(fx.tmp, config);
    const killAfter = 50 + Math.floor(Math.random() * 350);

    // storescu -v says which file it sends and when the success response came back
    const victim = br;
    const acknowledged = await sendAndKill(br.port, files, uidOf, victim, killAfter);
    await waitFor('bodyroute to die', () => victim.proc.signalCode === 'SIGKILL', 10000);
    expect(acknowledged.size).to.be.at.least(killAfter);
    expect(acknowledged.size).to.be.lessThan(OBJECTS);

    br = await startBodyroute(fx.tmp, config, 'restarted');
    await br.waitForEntry({ message: /^(recovered pending deliveries|re-processing acknowledged objects left in the inbox)$/ });
    scp = await startStorescp(join(fx.tmp, 'received'), 'STORESCP', scpPort);
    const s = scp;
    await waitFor(
      `${acknowledged.size} acknowledged objects at the destination`,
      () => {
        const delivered = s.sopInstanceUids();
        return [...acknowledged].every((u) => delivered.has(u));
      },
      60000,
      250,
    );
    // nothing half-received survives the restart
    expect(readdirSync(join(fx.tmp, 'spool', 'tmp'))).to.deep.equal([]);
  });
});
