import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readFileMeta } from '../../src/dicom/part10';
import { canBuildNetworks, TestNetwork } from '../helpers/netns';
import { suiteFixture } from '../helpers/suite-fixture';
import { writeSyntheticSeries } from '../helpers/synthetic-dicom';
import { PEER_ENV, waitFor } from '../helpers/tools';
import { SERVE_NODE_FLAGS } from '../../src/node-flags';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');
const HAPROXY_EXAMPLE = join(__dirname, '..', '..', '..', 'deploy', 'haproxy.cfg');
const SUBNET = '10.231.77';
const TOKEN = 'scale-out-test-token-0123';

interface Node {
  name: string;
  address: string;
  proc: ChildProcess;
  log: string[];
}

/** Part-10 file → its dataset bytes (group 0002 is each writer's own). */
const datasetOf = (path: string) => {
  const b = readFileSync(path);
  return b.subarray(readFileMeta(b).datasetOffset);
};

describe('scale-out: three bodyroute nodes behind HAProxy, hosts in network namespaces', function () {
  this.timeout(300000);
  const fx = suiteFixture('scale', 'haproxy', 'storescp', 'storescu', 'echoscu');
  const net = new TestNetwork('brt', SUBNET);
  const nodes: Node[] = [];
  let lb: ChildProcess;
  const lbLog: { at: number; line: string }[] = [];

  before(async function () {
    if (!canBuildNetworks()) {
      if (process.env.CI) throw new Error('the scale-out test builds network namespaces: it needs root and iproute2 (CI runs as root)');
      console.warn('    skipped: needs root and iproute2 (ip netns, veth)');
      return this.skip();
    }
    net.up();
    for (const [name, octet] of [
      ['scan1', 11],
      ['scan2', 12],
      ['scan3', 13],
      ['lb', 2],
      ['node1', 21],
      ['node2', 22],
      ['node3', 23],
      ['pacs', 31],
    ] as const)
      net.add(name, octet);
    // the PACS
    mkdirSync(join(fx.tmp, 'pacs'), { recursive: true });
    net.spawn('pacs', 'storescp', ['-aet', 'PACS', '+B', '-od', join(fx.tmp, 'pacs'), '11112']);
    await waitFor('the PACS', () => net.run('pacs', 'echoscu', ['-aec', 'PACS', '127.0.0.1', '11112']).status === 0, 10000, 100);
    for (const n of [1, 2, 3]) nodes.push(await startNode(`node${n}`, `${SUBNET}.${20 + n}`));
    // HAProxy: the shipped example, with this network's addresses
    const cfg = readFileSync(HAPROXY_EXAMPLE, 'utf8')
      .replace(/server node(\d) 10\.0\.0\.2\1:11112/g, (_m, n: string) => `server node${n} ${SUBNET}.2${n}:11112`)
      .replace('bind 0.0.0.0:11112', `bind ${SUBNET}.2:11112`);
    expect(cfg, 'the example was rewritten for this network').to.include(`server node3 ${SUBNET}.23:11112`);
    writeFileSync(join(fx.tmp, 'haproxy.cfg'), cfg);
    lb = net.spawn('lb', 'haproxy', ['-db', '-f', join(fx.tmp, 'haproxy.cfg')]);
    const collect = (d: Buffer) =>
      lbLog.push(
        ...d
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((line) => ({ at: Date.now(), line })),
      );
    lb.stdout?.on('data', collect);
    lb.stderr?.on('data', collect);
    await waitFor('HAProxy answers', () => net.run('scan1', 'echoscu', ['-aec', 'BODYROUTE', `${SUBNET}.2`, '11112']).status === 0, 15000, 200);
  });

  after(() => net.teardown());

  async function startNode(name: string, address: string, fresh = true): Promise<Node> {
    const config = join(fx.tmp, `${name}.yaml`);
    if (fresh)
      writeFileSync(
        config,
        stringify({
          listen: { host: '0.0.0.0', port: 11112, aeTitle: 'BODYROUTE' },
          spool: { dir: join(fx.tmp, `${name}-spool`), minFreeBytes: 0 },
          http: { enabled: true, host: '0.0.0.0', port: 8080, token: TOKEN },
          retry: { initialDelayMs: 200, maxDelayMs: 1000 },
          logging: { format: 'json', level: 'info' },
          destinations: [{ name: 'pacs', type: 'dimse', host: `${SUBNET}.31`, port: 11112, aeTitle: 'PACS' }],
          routes: [{ to: ['pacs'] }],
        }),
      );
    const proc = net.spawn(name, process.execPath, [...SERVE_NODE_FLAGS, CLI, 'serve', '--config', config], process.env);
    const log: string[] = [];
    const collect = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean));
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    await waitFor(
      `${name} listening`,
      () => log.some((l) => l.includes('listening for DICOM associations')) || (proc.exitCode !== null && Promise.reject(new Error(log.join('\n')))),
      20000,
      50,
    );
    return { name, address, proc, log };
  }

  /** storescu from a scanner host to the load balancer; resolves with its exit status. */
  function send(scanner: string, files: string[]): Promise<number> {
    return new Promise((resolve) => {
      const p = spawn(
        'ip',
        ['netns', 'exec', net.hostNs(scanner), 'storescu', '-aet', scanner.toUpperCase(), '-aec', 'BODYROUTE', `${SUBNET}.2`, '11112', ...files],
        {
          env: PEER_ENV,
          stdio: 'ignore',
        },
      );
      p.on('exit', (code) => resolve(code ?? 1));
    });
  }

  /** Sends until storescu reports every object stored (a refused or cut association is sent again, as a scanner does). */
  async function sendUntilStored(scanner: string, files: string[]): Promise<number> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      if ((await send(scanner, files)) === 0) return attempt;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${scanner} could not store its objects after 20 attempts`);
  }

  const nodeOf = (scanner: string) =>
    nodes
      .filter((n) => n.log.some((l) => l.includes('"message":"association closed"') && l.includes(`"callingAe":"${scanner.toUpperCase()}"`)))
      .map((n) => n.name);

  it("lands each scanner's study on one node and at the PACS complete and byte-faithful", async () => {
    const studies = ['scan1', 'scan2', 'scan3'].map((s) => ({
      scanner: s,
      ...writeSyntheticSeries(join(fx.tmp, `study-${s}`), 12, { rows: 64, columns: 64 }),
    }));
    await Promise.all(studies.map((s) => sendUntilStored(s.scanner, s.files)));
    const all = studies.flatMap((s) => [...s.uidOf.values()]);
    await waitFor('every object at the PACS', () => countAtPacs(all) === all.length, 30000, 100);
    for (const s of studies) expect(nodeOf(s.scanner), `${s.scanner} on one node`).to.have.length(1);
    // byte-faithful: every dataset at the PACS equals the one a scanner sent
    const sent = new Map(studies.flatMap((s) => s.files.map((f) => [s.uidOf.get(f) as string, datasetOf(f)] as const)));
    const received = pacsFiles();
    expect(received).to.have.length(all.length);
    for (const f of received) {
      const data = datasetOf(f);
      const match = [...sent.values()].some((d) => d.equals(data));
      expect(match, `${f} is byte-identical to what was sent`).to.equal(true);
    }
  });

  it('kill -9 of a node while scanners send: marked down within the check interval, the senders go elsewhere, nothing acknowledged is lost', async () => {
    const victimName = nodeOf('scan1')[0];
    const victim = nodes.find((n) => n.name === victimName) as Node;
    const batches = (scanner: string) =>
      Array.from({ length: 6 }, (_, b) => writeSyntheticSeries(join(fx.tmp, `run-${scanner}-${b}`), 10, { rows: 64, columns: 64 }));
    const work = ['scan1', 'scan2', 'scan3'].map((s) => ({ scanner: s, batches: batches(s) }));
    const before = pacsFiles().length;
    let killedAt = 0;
    const sending = work.map(async (w) => {
      for (const [b, batch] of w.batches.entries()) {
        if (w.scanner === 'scan1' && b === 2) {
          victim.proc.kill('SIGKILL');
          killedAt = Date.now();
        }
        await sendUntilStored(w.scanner, batch.files);
      }
    });
    await Promise.all(sending);
    const down = await waitFor('HAProxy marks the node down', () => lbLog.find((l) => l.line.includes(`bodyroute/${victimName} is DOWN`)), 10000, 50);
    // inter 1s, fall 2: two failed checks, plus the check timeout
    expect(down.at - killedAt, 'marked down within the check interval').to.be.below(5000);
    expect(
      nodes.filter((n) => n.name !== victimName).some((n) => n.log.some((l) => l.includes('"callingAe":"SCAN1"'))),
      'scan1 went on to another node',
    ).to.equal(true);
    // the node comes back on its spool: what it acknowledged before the kill is delivered
    const restarted = await startNode(victimName, victim.address, false);
    nodes.splice(nodes.indexOf(victim), 1, restarted);
    const expected = work.flatMap((w) => w.batches.flatMap((b) => [...b.uidOf.values()]));
    await waitFor('every object sent at the PACS', () => countAtPacs(expected) === expected.length, 60000, 250);
    expect(pacsFiles().length - before, 'no object lost (duplicates from resends allowed)').to.be.at.least(expected.length);
  });

  it('prints the aggregate throughput of 3 nodes against 1 node in the same run', async () => {
    const timed = async (label: string, port: number) => {
      const loads = ['scan1', 'scan2', 'scan3'].map((s) => ({ s, ...writeSyntheticSeries(join(fx.tmp, `tp-${label}-${s}`), 60, { rows: 256, columns: 256 }) }));
      const uids = loads.flatMap((l) => [...l.uidOf.values()]);
      const t0 = Date.now();
      await Promise.all(loads.map((l) => sendVia(l.s, l.files, port)));
      await waitFor(`${label}: all at the PACS`, () => countAtPacs(uids) === uids.length, 120000, 100);
      return uids.length / ((Date.now() - t0) / 1000);
    };
    // a second frontend on the same HAProxy host with one node behind it
    const one = readFileSync(join(fx.tmp, 'haproxy.cfg'), 'utf8')
      .replace(`bind ${SUBNET}.2:11112`, `bind ${SUBNET}.2:11113`)
      .replace(/ {4}server node[23] .*\n/g, '');
    writeFileSync(join(fx.tmp, 'haproxy-one.cfg'), one);
    net.spawn('lb', 'haproxy', ['-db', '-f', join(fx.tmp, 'haproxy-one.cfg')]);
    await waitFor('the one-node frontend', () => net.run('scan1', 'echoscu', ['-aec', 'BODYROUTE', `${SUBNET}.2`, '11113']).status === 0, 15000, 200);
    const three = await timed('three', 11112);
    const single = await timed('one', 11113);
    console.log(
      `      scale-out: 3 nodes ${three.toFixed(0)} img/s, 1 node ${single.toFixed(0)} img/s, ratio ${(three / single).toFixed(2)} (all on this machine's ${cpus().length} cores)`,
    );
    expect(three).to.be.greaterThan(0);
  });

  function sendVia(scanner: string, files: string[], port: number): Promise<number> {
    return new Promise((resolve) => {
      const p = spawn(
        'ip',
        ['netns', 'exec', net.hostNs(scanner), 'storescu', '-aet', scanner.toUpperCase(), '-aec', 'BODYROUTE', `${SUBNET}.2`, String(port), ...files],
        {
          env: PEER_ENV,
          stdio: 'ignore',
        },
      );
      p.on('exit', (code) => resolve(code ?? 1));
    });
  }

  function pacsFiles(): string[] {
    return readdirSync(join(fx.tmp, 'pacs'))
      .filter((f) => !f.startsWith('.'))
      .map((f) => join(fx.tmp, 'pacs', f));
  }

  /** How many of `uids` the PACS holds (storescp names files by modality and SOP Instance UID). */
  function countAtPacs(uids: string[]): number {
    const names = readdirSync(join(fx.tmp, 'pacs')).join('\n');
    return uids.filter((u) => names.includes(u)).length;
  }
});
