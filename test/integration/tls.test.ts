import { expect } from 'chai';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileMeta } from '../../src/dicom/part10';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { makeCertificates } from '../helpers/certificates';
import { receivedSopInstanceUids } from '../helpers/peers';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { freePort, PEER_ENV, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

describe('DICOM TLS: storescu → bodyroute → storescp, all over TLS with client certificates', function () {
  this.timeout(120000);
  const fx = suiteFixture('tls', 'storescu', 'storescp', 'openssl');
  let storescp: ChildProcess;
  let br: BodyrouteProcess;
  let certs: ReturnType<typeof makeCertificates>;
  const received = () => join(fx.tmp, 'received');

  before(async function () {
    certs = makeCertificates(fx.tmp, ['bodyroute', 'storescp', 'storescu']);
    mkdirSync(received());
    const scpPort = await freePort();
    storescp = spawn(
      'storescp',
      ['+tls', certs.key('storescp'), certs.cert('storescp'), '+cf', certs.ca, '-aet', 'TLSPACS', '+xa', '-od', received(), String(scpPort)],
      { env: PEER_ENV, stdio: 'ignore' },
    );
    br = await startBodyroute(fx.tmp, {
      listen: {
        host: '127.0.0.1',
        port: 0,
        aeTitle: 'BODYROUTE',
        tls: { cert: certs.cert('bodyroute'), key: certs.key('bodyroute'), ca: certs.ca, requireClientCertificate: true },
      },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      destinations: [
        {
          name: 'pacs',
          type: 'dimse',
          host: '127.0.0.1',
          port: scpPort,
          aeTitle: 'TLSPACS',
          tls: { ca: certs.ca, cert: certs.cert('bodyroute'), key: certs.key('bodyroute') },
        },
      ],
      routes: [{ to: ['pacs'] }],
    });
  });

  after(async () => {
    storescp?.kill();
  });

  it('receives from storescu with a client certificate and forwards to storescp over TLS', async () => {
    const files = Array.from({ length: 5 }, (_, i) => {
      const f = join(fx.tmp, `tls${i}.dcm`);
      writeSyntheticImage(f, { rows: 64, columns: 64, seriesUid: newUid(), instanceNumber: i + 1 });
      return f;
    });
    const r = spawnSync(
      'storescu',
      ['+tls', certs.key('storescu'), certs.cert('storescu'), '+cf', certs.ca, '-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files],
      { env: PEER_ENV, encoding: 'latin1' },
    );
    expect(r.status, r.stderr).to.equal(0);
    await waitFor('5 complete objects at the TLS storescp', () => receivedSopInstanceUids(received()).size === 5, 20000);
    expect(receivedSopInstanceUids(received())).to.deep.equal(new Set(files.map((f) => readFileMeta(readFileSync(f)).sopInstanceUid)));
    await br.waitForEntry({ message: 'listening for DICOM associations', tls: true });
  });

  it('refuses a peer without a client certificate, and a plain-TCP peer, at the handshake', async () => {
    const f = join(fx.tmp, 'anon.dcm');
    writeFileSync(f, readFileSync(join(fx.tmp, 'tls0.dcm')));
    const anonymous = spawnSync('storescu', ['+tla', '+cf', certs.ca, '-aec', 'BODYROUTE', '127.0.0.1', String(br.port), f], {
      env: PEER_ENV,
      encoding: 'latin1',
    });
    expect(anonymous.status).to.not.equal(0);
    const plain = spawnSync('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), f], { env: PEER_ENV, encoding: 'latin1', timeout: 20000 });
    expect(plain.status).to.not.equal(0);
    await br.waitForEntry({ message: 'TLS handshake failed' });
    expect(br.proc.exitCode).to.equal(null);
  });
});
