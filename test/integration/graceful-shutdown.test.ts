import { expect } from 'chai';
import { join } from 'node:path';
import { storescpConfig, BodyrouteProcess, jsonLogLines, startBodyroute } from '../helpers/bodyroute-process';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { sendAndKill } from '../helpers/send-and-kill';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { freePort, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

const OBJECTS = 300;

describe('SIGTERM while a study arrives: a clean stop, and every acknowledged object delivered after the restart', function () {
  this.timeout(180000);
  const fx = suiteFixture('term', 'storescu', 'storescp');
  let scp: StorescpPeer | undefined;
  let br: BodyrouteProcess | undefined;

  it(`stops on SIGTERM with exit 0 and one "stopped" line; nothing that got a success is lost (${OBJECTS} objects)`, async () => {
    const scpPort = await freePort();
    const { files, uidOf } = writeSyntheticSeries(join(fx.tmp, 'in'), OBJECTS, { rows: 256, columns: 256 });
    const config = storescpConfig(fx.tmp, scpPort, { shutdown: { graceSeconds: 5 }, logging: { format: 'json', level: 'info' } });
    br = await startBodyroute(fx.tmp, config);
    const victim = br;
    const acknowledged = await sendAndKill(br.port, files, uidOf, victim, 60, 'SIGTERM');
    await waitFor('bodyroute to stop', () => victim.proc.exitCode !== null, 20000);
    expect(victim.proc.exitCode).to.equal(0);
    expect(acknowledged.size).to.be.at.least(60);
    expect(acknowledged.size).to.be.lessThan(OBJECTS);
    const lines = jsonLogLines(victim);
    expect(lines.filter((l) => l.message === 'bodyroute stopped')).to.have.length(1);
    expect(lines.some((l) => l.message === 'association aborted: bodyroute is stopping')).to.equal(true);
    expect(lines.filter((l) => l.level === 'error')).to.deep.equal([]);

    // the destination comes up with the restart: every object that got a success response arrives
    scp = await startStorescp(join(fx.tmp, 'received'), 'STORESCP', scpPort);
    br = await startBodyroute(fx.tmp, config, 'restarted');
    const s = scp;
    await waitFor(
      `all ${acknowledged.size} acknowledged objects at the destination`,
      () => [...acknowledged].every((u) => s.sopInstanceUids().has(u)),
      60000,
      200,
    );
  });
});
