import { expect } from 'chai';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { waitFor } from '../helpers/tools';
import { sendAndKill } from '../helpers/send-and-kill';
import { suiteFixture } from '../helpers/suite-fixture';

const ROUNDS = 5;
const OBJECTS = 1000;

describe(`crash durability: ${ROUNDS} rounds of kill -9 while ${OBJECTS} objects are sent`, function () {
  this.timeout(600000);
  const fx = suiteFixture('rounds', 'storescu');
  let dest: ScriptedScp;
  let br: BodyrouteProcess | undefined;

  it('delivers every acknowledged object after each restart; duplicates are counted, not lost objects', async () => {
    dest = await startScriptedScp(() => 0);
    const config = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      retry: { initialDelayMs: 100, maxDelayMs: 500 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' }],
      routes: [{ to: ['pacs'] }],
    };
    const acknowledged = new Set<string>();
    const kills: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(fx.tmp, `round${round}`);
      mkdirSync(dir);
      const uidOf = new Map<string, string>();
      const series = newUid();
      const files = Array.from({ length: OBJECTS }, (_, i) => {
        const f = join(dir, `${String(i).padStart(4, '0')}.dcm`);
        uidOf.set(f, writeSyntheticImage(f, { rows: 64, columns: 64, seriesUid: series, instanceNumber: i + 1 }).sopInstanceUid);
        return f;
      });
      br = await startBodyroute(fx.tmp, config, `round${round}`);
      const killAfter = 50 + Math.floor(Math.random() * (OBJECTS - 100));
      kills.push(killAfter);
      for (const u of await sendAndKill(br.port, files, uidOf, br, killAfter)) acknowledged.add(u);
      const victim = br;
      await waitFor('bodyroute to die', () => victim.proc.signalCode === 'SIGKILL', 10000);
    }
    br = await startBodyroute(fx.tmp, config, 'final');
    await waitFor(`${acknowledged.size} acknowledged objects delivered`, () => [...acknowledged].every((u) => dest.calls.has(u)), 120000, 250).catch(
      (err: Error) => {
        const missing = [...acknowledged].filter((u) => !dest.calls.has(u));
        throw new Error(
          `${err.message}: ${missing.length} missing (e.g. ${missing.slice(0, 3).join(', ')}); spool holds ${['inbox', 'store'].map((d) => `${d} ${readdirSync(join(fx.tmp, 'spool', d)).length}`).join(', ')}\n${br?.logs().split('\n').slice(-15).join('\n')}`,
        );
      },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const duplicates = [...dest.calls.values()].filter((n) => n > 1).length;

    console.log(
      `      ${ROUNDS} kills after ${kills.join(', ')} acknowledgements; ${acknowledged.size} acknowledged, all delivered; ${duplicates} delivered twice (at-least-once)`,
    );
    expect(acknowledged.size).to.be.at.least(kills.reduce((a, b) => a + b, 0));
    expect(readdirSync(join(fx.tmp, 'spool', 'tmp'))).to.deep.equal([]);
  });
});
