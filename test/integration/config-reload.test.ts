import { expect } from 'chai';
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BodyrouteProcess, jsonLogLines, startBodyroute } from '../helpers/bodyroute-process';
import { writeSyntheticImage } from '../helpers/synthetic-dicom';
import { freePort, run, waitFor } from '../helpers/tools';
import { startStorescp, StorescpPeer } from '../helpers/peers';
import { readFileSync } from 'node:fs';
import { ElementReader, stringValue } from '../../src/dicom/element-reader';
import { readFileMeta } from '../../src/dicom/part10';
import { Tags } from '../../src/dicom/tags';
import { suiteFixture } from '../helpers/suite-fixture';

const filesIn = (dir: string): number => (existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.dcm')).length : 0);

describe('SIGHUP reloads the configuration without a restart', function () {
  this.timeout(60000);
  const fx = suiteFixture('reload', 'storescu', 'storescp');
  let br: BodyrouteProcess | undefined;
  let pacs: StorescpPeer | undefined;

  it('applies new routes and log level, names keys that need a restart, and keeps running on an invalid file', async () => {
    const base = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      logging: { format: 'json', level: 'info' },
      destinations: [
        { name: 'a', type: 'folder', path: join(fx.tmp, 'a') },
        { name: 'b', type: 'folder', path: join(fx.tmp, 'b') },
      ],
      routes: [{ to: ['a'] }],
    };
    br = await startBodyroute(fx.tmp, base, 'reload');
    const configPath = join(fx.tmp, 'reload.yaml');
    const send = (name: string) => {
      const f = join(fx.tmp, `${name}.dcm`);
      writeSyntheticImage(f, { rows: 16, columns: 16 });
      run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String((br as BodyrouteProcess).port), f]);
    };
    send('first');
    await waitFor('the first object in a', () => filesIn(join(fx.tmp, 'a')) === 1, 10000);

    // new routes and a new listen port: routes apply at once, the port is named as needing a restart
    writeFileSync(configPath, stringify({ ...base, listen: { ...base.listen, port: 11119 }, routes: [{ to: ['b'] }] }));
    br.proc.kill('SIGHUP');
    await waitFor('the reload line', () => jsonLogLines(br as BodyrouteProcess).some((l) => l.message === 'configuration reloaded'), 5000, 20);
    const reloaded = jsonLogLines(br).find((l) => l.message === 'configuration reloaded');
    expect(reloaded?.applied).to.equal('routes');
    expect(jsonLogLines(br).find((l) => l.message === 'configuration changes that take effect only after a restart')?.keys).to.equal('listen.port');
    send('second');
    await waitFor('the second object in b', () => filesIn(join(fx.tmp, 'b')) === 1, 10000);
    expect(filesIn(join(fx.tmp, 'a'))).to.equal(1);

    // an invalid file: an error naming the key, the running settings stay
    writeFileSync(configPath, stringify({ ...base, routes: [{ to: ['nowhere'] }] }));
    br.proc.kill('SIGHUP');
    await waitFor(
      'the refusal',
      () => jsonLogLines(br as BodyrouteProcess).some((l) => l.message === 'configuration not reloaded; the running settings stay'),
      5000,
      20,
    );
    expect(String(jsonLogLines(br).find((l) => l.message === 'configuration not reloaded; the running settings stay')?.reason)).to.match(
      /routes\[0\]\.to\[0\]: no destination named "nowhere"/,
    );
    expect(br.proc.exitCode).to.equal(null);
    send('third');
    await waitFor('the third object in b', () => filesIn(join(fx.tmp, 'b')) === 2, 10000);
  });

  it('moves a destination to a new address with its queued objects, adds a destination and changes tagging, all live', async () => {
    await br?.kill();
    const dir = join(fx.tmp, 'live');
    const deadPort = await freePort(); // nothing listens here: the first object waits in the queue
    const base = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(dir, 'spool'), minFreeBytes: 0 },
      logging: { format: 'json', level: 'info' },
      retry: { initialDelayMs: 200, maxDelayMs: 400 },
      classifier: { enabled: true },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: deadPort, aeTitle: 'PACS' }] as Record<string, unknown>[],
      routes: [{ to: ['pacs'] }] as Record<string, unknown>[],
      tagging: { seriesDescription: 'off' },
    };
    br = await startBodyroute(fx.tmp, base, 'live');
    const send = (name: string, seriesDescription: string) => {
      const f = join(fx.tmp, `${name}.dcm`);
      writeSyntheticImage(f, { rows: 32, columns: 32, seriesDescription });
      run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String((br as BodyrouteProcess).port), f]);
    };
    send('queued', 'BEFORE');
    await waitFor(
      'the first delivery attempt to fail',
      () => jsonLogLines(br as BodyrouteProcess).some((l) => l.message === 'destination unavailable; objects stay queued'),
      10000,
      50,
    );

    pacs = await startStorescp(join(dir, 'pacs'), 'PACS');
    const moved = {
      ...base,
      destinations: [
        { name: 'pacs', type: 'dimse', host: '127.0.0.1', port: pacs.port, aeTitle: 'PACS' },
        { name: 'copy', type: 'folder', path: join(dir, 'copy') },
      ],
      routes: [{ to: ['pacs', 'copy'] }],
      tagging: { seriesDescription: 'append' },
    };
    writeFileSync(join(fx.tmp, 'live.yaml'), stringify(moved));
    br.proc.kill('SIGHUP');
    await waitFor('the reload line', () => jsonLogLines(br as BodyrouteProcess).some((l) => l.message === 'configuration reloaded'), 10000, 20);
    const applied = String(jsonLogLines(br).find((l) => l.message === 'configuration reloaded')?.applied).split(',');
    expect(applied).to.include.members(['destinations.pacs', 'destinations.copy (added)', 'routes', 'tagging.seriesDescription']);
    expect(jsonLogLines(br).some((l) => l.message === 'configuration changes that take effect only after a restart')).to.equal(false);

    send('after', 'AFTER');
    await waitFor('both objects at the moved destination', () => (pacs as StorescpPeer).files().length === 2, 15000);
    await waitFor('the second object in the new folder destination', () => filesIn(join(dir, 'copy')) === 1, 10000);
    const descriptions = pacs.files().map((f) => {
      const file = readFileSync(f);
      const data = file.subarray(readFileMeta(file).datasetOffset);
      const reader = new ElementReader(data, { explicitVr: true, littleEndian: true });
      const el = [...reader.elements()].find((e) => e.tag === Tags.SeriesDescription)!;
      return stringValue(reader.valueBytes(el));
    });
    // labelled only from the reload on
    expect(descriptions.sort()).to.have.members(['BEFORE', descriptions.find((d) => d.startsWith('AFTER ['))!]);
    expect(descriptions.some((d) => /^AFTER \[[A-Z]+\]$/.test(d))).to.equal(true);

    // the log format too: the very line that reports the reload is already written as text
    writeFileSync(join(fx.tmp, 'live.yaml'), stringify({ ...moved, logging: { format: 'text', level: 'info' } }));
    br.proc.kill('SIGHUP');
    await waitFor('a text reload line', () => / INFO configuration reloaded applied=logging\.format/.test((br as BodyrouteProcess).logs()), 10000, 20);
    expect(br.proc.exitCode).to.equal(null);
  });
});
