import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { startScriptedScp } from '../helpers/scripted-scp';
import { suiteFixture } from '../helpers/suite-fixture';
import { writeSyntheticImage, writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { dicomFilesUnder, haveTool, run, waitFor } from '../helpers/tools';

interface Answer {
  status: number;
  body: string;
}

async function http(url: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.text() };
}

const base = (br: BodyrouteProcess, host = '127.0.0.1') => `http://${host}:${httpPortOf(br)}`;

function httpPortOf(br: BodyrouteProcess): number {
  if (br.httpPort === undefined) throw new Error('the operator HTTP server did not start');
  return br.httpPort;
}

/** A spool id as bodyroute makes them (time in base 36, counter, random). */
const spoolId = (n: number) => `${Date.now().toString(36).padStart(11, '0')}-${n.toString(16).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;

describe('operations: /metrics, /healthz and /readyz', function () {
  this.timeout(120000);
  const fx = suiteFixture('ops', 'storescu');

  it('/metrics parses as Prometheus text; its counters move by exactly the objects sent; no label holds a UID or a name', async () => {
    const dest = await startScriptedScp((uid) => (uid.endsWith('.9') ? 0xa900 : 0));
    const br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      classifier: { enabled: true },
      http: { enabled: true, port: 0 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' }],
      routes: [{ to: ['pacs'] }],
    });
    const scrape = async () => parsePrometheusTextFormat((await http(`${base(br)}/metrics`)).body);
    const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}) => {
      const family = families.find((f) => f.name === name);
      const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
      // the parser keeps neither labels nor count of a labelled histogram: its +Inf bucket is the count
      return m ? Number(m.value ?? m.count ?? m.buckets?.['+Inf']) : 0;
    };
    const before = await scrape();
    const { files } = writeSyntheticSeries(join(fx.tmp, 'in'), 6, { rows: 64, columns: 64, seriesDescription: 'PATIENT^NAME SERIES' });
    const fatal = join(fx.tmp, 'fatal.dcm');
    writeSyntheticImage(fatal, { rows: 64, columns: 64, sopInstanceUid: `1.2.826.0.1.3680043.10.999.${Date.now()}.9` });
    run('storescu', ['-aet', 'CT_ROOM_1', '-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files, fatal]);
    await waitFor('six delivered, one dead-lettered', () => dest.stored.length === 6, 30000);
    await br.waitForEntry({ message: 'object dead-lettered' }, 10000);
    const after = await scrape();
    expect(
      value(after, 'bodyroute_objects_received_total', { calling_ae: 'CT_ROOM_1' }) -
        value(before, 'bodyroute_objects_received_total', { calling_ae: 'CT_ROOM_1' }),
    ).to.equal(7);
    expect(value(after, 'bodyroute_associations_total') - value(before, 'bodyroute_associations_total')).to.equal(1);
    expect(value(after, 'bodyroute_destination_delivered_total', { destination: 'pacs' })).to.equal(6);
    expect(value(after, 'bodyroute_destination_dead_letters_total', { destination: 'pacs' })).to.equal(1);
    expect(value(after, 'bodyroute_objects_routed_total', { outcome: 'committed' })).to.equal(7);
    const classified = after.find((f) => f.name === 'bodyroute_classifications_total')?.metrics.reduce((n, m) => n + Number(m.value), 0);
    expect(classified, 'every CT image classified').to.equal(7);
    for (const h of [
      'bodyroute_acknowledge_latency_seconds',
      'bodyroute_inference_seconds',
      'bodyroute_classification_confidence',
      'bodyroute_delivery_latency_seconds',
    ]) {
      expect(value(after, h), `${h} has observations`).to.be.greaterThan(0);
    }
    expect(value(after, 'bodyroute_destination_queue_depth', { destination: 'pacs' })).to.equal(0);
    expect(value(after, 'bodyroute_destination_state', { destination: 'pacs', state: 'up' })).to.equal(1);
    expect(value(after, 'bodyroute_spool_free_bytes')).to.be.greaterThan(0);
    // which model, and where it runs: on this machine the CPU, in the metrics, the status API and /readyz alike
    const info = after.find((f) => f.name === 'bodyroute_classifier_info')?.metrics ?? [];
    expect(info.map((m) => [m.labels?.provider, Number(m.value)])).to.deep.equal([['cpu', 1]]);
    expect(info[0].labels?.model).to.match(/^bodyregion-cnn \d+\.\d+\.\d+$/);
    const status = JSON.parse((await http(`${base(br)}/api/status`)).body) as { model: string; classifierProvider: string };
    expect([status.model, status.classifierProvider]).to.deep.equal([info[0].labels?.model, 'cpu']);
    const ready = JSON.parse((await http(`${base(br)}/readyz`)).body) as { checks: { classifier: { detail: string } } };
    expect(ready.checks.classifier.detail).to.equal(`${status.model} on cpu`);
    expect(
      after.some((f) => f.name === 'bodyroute_process_cpu_seconds_total'),
      'process metrics',
    ).to.equal(true);
    const labelValues = after.flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    expect(
      labelValues.filter((v) => /^\d+(\.\d+){3,}$/.test(v)),
      'no UID in a label',
    ).to.deep.equal([]);
    expect(
      labelValues.filter((v) => /PATIENT|SERIES|\^/.test(v)),
      'no name or description in a label',
    ).to.deep.equal([]);
    for (const f of after) expect(f.name, 'Prometheus naming').to.match(/^bodyroute_[a-z0-9_]+$/);
    await br.kill();
  });

  it('/readyz is 503 while a large inbox left by the last run is recovered, and 200 after', async () => {
    const spool = join(fx.tmp, 'spool-recover');
    mkdirSync(join(spool, 'inbox'), { recursive: true });
    const series = '1.2.826.0.1.3680043.10.999.77';
    for (let i = 0; i < 1500; i++)
      writeSyntheticImage(join(spool, 'inbox', `${spoolId(i)}.dcm`), { rows: 64, columns: 64, seriesUid: series, instanceNumber: i + 1, z: i });
    const br = await startBodyroute(
      fx.tmp,
      {
        listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
        spool: { dir: spool, minFreeBytes: 0 },
        classifier: { enabled: true },
        http: { enabled: true, port: 0 },
        destinations: [{ name: 'archive', type: 'folder', path: join(fx.tmp, 'archive-recover') }],
        routes: [{ to: ['archive'] }],
      },
      'recover',
      'http',
    );
    const first = await http(`${base(br)}/readyz`);
    expect(first.status, 'not ready while recovering').to.equal(503);
    expect(JSON.parse(first.body)).to.deep.include({ ok: false });
    await waitFor('ready', async () => (await http(`${base(br)}/readyz`)).status === 200, 60000, 200);
    expect(dicomFilesUnder(join(spool, 'inbox')), 'every recovered object through the pipeline before ready').to.equal(0);
    await waitFor('all delivered', () => dicomFilesUnder(join(fx.tmp, 'archive-recover')) === 1500, 60000);
    expect(br.entries().filter((e) => e.message === 'object moved to quarantine')).to.deep.equal([]);
    await br.kill();
  });

  it('/healthz turns 503 when the spool falls below spool.minFreeBytes, and 200 when space returns', async function () {
    if (!haveTool('mount') || process.getuid?.() !== 0) return this.skip();
    const mountPoint = join(fx.tmp, 'small-disk');
    mkdirSync(mountPoint);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount failed: ${m.stderr}`);
    let br: BodyrouteProcess | undefined;
    try {
      br = await startBodyroute(fx.tmp, {
        listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
        spool: { dir: join(mountPoint, 'spool'), minFreeBytes: 2 * 1024 * 1024 },
        http: { enabled: true, port: 0 },
        destinations: [{ name: 'archive', type: 'folder', path: join(fx.tmp, 'archive-health') }],
        routes: [{ to: ['archive'] }],
      });
      expect((await http(`${base(br)}/healthz`)).status).to.equal(200);
      const filler = join(mountPoint, 'filler');
      writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024));
      const sick = await http(`${base(br)}/healthz`);
      expect(sick.status).to.equal(503);
      expect(JSON.parse(sick.body).checks.spoolFreeSpace).to.deep.include({ ok: false });
      spawnSync('rm', [filler]);
      expect((await http(`${base(br)}/healthz`)).status).to.equal(200);
    } finally {
      await br?.kill('SIGKILL');
      spawnSync('umount', [mountPoint]);
    }
  });
});

describe('operations: bodyroute destination pause|resume reaches the running router', function () {
  this.timeout(60000);
  const fx = suiteFixture('pause-cli');

  it('pauses and resumes a destination from the command line; the state survives a restart', async () => {
    const cfg = { ...config(fx.tmp, 'cli'), http: { enabled: true, port: 0 } };
    const file = join(fx.tmp, 'cli.yaml');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(__dirname, '..', '..', 'src', 'cli.js'), ...args, '--config', file], { encoding: 'utf8' });
    let br = await startBodyroute(fx.tmp, cfg, 'cli');
    const state = async () =>
      (JSON.parse((await http(`${base(br)}/api/status`)).body) as { destinations: { name: string; state: string }[] }).destinations[0].state;
    expect(await state()).to.equal('up');
    const paused = cli('destination', 'pause', 'archive');
    expect(paused.status, paused.stderr).to.equal(0);
    expect(paused.stdout).to.match(/archive paused/);
    await waitFor('the router follows', async () => (await state()) === 'paused', 10000, 200);
    await br.kill();
    br = await startBodyroute(fx.tmp, cfg, 'cli');
    expect(await state(), 'still paused after a restart').to.equal('paused');
    expect(cli('destination', 'resume', 'archive').status).to.equal(0);
    await waitFor('resumed', async () => (await state()) === 'up', 10000, 200);
    const unknown = cli('destination', 'pause', 'nowhere');
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.match(/no destination named "nowhere"/);
    await br.kill();
  });
});

describe('operations: the token off loopback, and cross-site requests', function () {
  this.timeout(60000);
  const fx = suiteFixture('auth');
  const address = '10.203.7.1';
  let added = false;

  before(function () {
    if (process.getuid?.() !== 0 || !haveTool('ip')) {
      if (process.env.CI) throw new Error('this test adds an address to lo: it needs root and iproute2 (CI runs as root)');
      return this.skip();
    }
    const r = spawnSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { encoding: 'utf8' });
    if (r.status !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip addr add failed: ${r.stderr}`);
    added = true;
  });
  after(() => {
    if (added) spawnSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  });

  it('refuses to start off loopback without a token, naming the key', () => {
    const r = spawnSync(
      process.execPath,
      [join(__dirname, '..', '..', 'src', 'cli.js'), 'serve', '--config', writeConfig(fx.tmp, 'no-token', { http: { enabled: true, host: address, port: 0 } })],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).to.equal(3);
    expect(r.stderr).to.match(/http\.token: required when http\.host \(10\.203\.7\.1\) is not a loopback address/);
  });

  it('asks every route but /healthz for the token; takes it as Bearer or Basic; refuses cross-site POSTs', async () => {
    const token = 'correct-horse-battery-staple';
    const br = await startBodyroute(fx.tmp, { ...config(fx.tmp, 'token'), http: { enabled: true, host: address, port: 0, token } });
    const url = base(br, address);
    for (const path of ['/', '/metrics', '/readyz', '/api/status']) expect((await http(url + path)).status, path).to.equal(401);
    const post = await http(`${url}/api/destinations/archive/pause`, { method: 'POST', headers: { 'x-bodyroute-request': '1' } });
    expect(post.status, 'a POST without the token').to.equal(401);
    expect((await http(`${url}/healthz`)).status).to.equal(200);
    expect((await http(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
    expect((await http(`${url}/api/status`, { headers: { authorization: `Basic ${Buffer.from(`operator:${token}`).toString('base64')}` } })).status).to.equal(
      200,
    );
    expect((await http(`${url}/api/status`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).to.equal(401);
    const auth = { authorization: `Bearer ${token}` };
    const crossSite = await http(`${url}/api/destinations/archive/pause`, {
      method: 'POST',
      headers: { ...auth, 'x-bodyroute-request': '1', origin: 'http://attacker.example' },
    });
    expect(crossSite.status, 'an Origin of another site').to.equal(403);
    const form = await http(`${url}/api/destinations/archive/pause`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(form.status, 'a form post (no request header)').to.equal(403);
    const ok = await http(`${url}/api/destinations/archive/pause`, { method: 'POST', headers: { ...auth, 'x-bodyroute-request': '1', origin: url } });
    expect(ok.status, 'the page itself').to.equal(200);
    await br.kill();
  });
});

function config(dir: string, name: string): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
    spool: { dir: join(dir, `spool-${name}`), minFreeBytes: 0 },
    destinations: [{ name: 'archive', type: 'folder', path: join(dir, `archive-${name}`) }],
    routes: [{ to: ['archive'] }],
  };
}

function writeConfig(dir: string, name: string, extra: Record<string, unknown>): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, JSON.stringify({ ...config(dir, name), ...extra }));
  return path;
}
