import { expect } from 'chai';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, jsonLogLines, LogEntry, startBodyroute } from './bodyroute-process';
import { ScriptedScp, startScriptedScp } from './scripted-scp';
import { newUid, writeSyntheticImage } from './synthetic-dicom';
import { waitFor } from './tools';
import { sendAndKill } from './send-and-kill';

/**
 * `rounds` times: start bodyroute on one spool, send `objects` with storescu and kill -9 it after a random
 * number of acknowledgements; then start it once more and check that every object ever acknowledged reaches
 * the destination. `spool` is added to the spool's settings. Returns the JSON log entries of every run.
 */
export async function crashRounds(tmp: string, rounds: number, objects: number, spool: Record<string, unknown> = {}): Promise<LogEntry[]> {
  const dest: ScriptedScp = await startScriptedScp(() => 0);
  let br: BodyrouteProcess | undefined;
  const entries: LogEntry[] = [];
  try {
    const config = {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(tmp, 'spool'), minFreeBytes: 0, ...spool },
      retry: { initialDelayMs: 100, maxDelayMs: 500 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' }],
      routes: [{ to: ['pacs'] }],
    };
    const acknowledged = new Set<string>();
    const kills: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const dir = join(tmp, `round${round}`);
      mkdirSync(dir);
      const uidOf = new Map<string, string>();
      const series = newUid();
      const files = Array.from({ length: objects }, (_, i) => {
        const f = join(dir, `${String(i).padStart(4, '0')}.dcm`);
        uidOf.set(f, writeSyntheticImage(f, { rows: 64, columns: 64, seriesUid: series, instanceNumber: i + 1 }).sopInstanceUid);
        return f;
      });
      br = await startBodyroute(tmp, config, `round${round}`);
      const killAfter = 50 + Math.floor(Math.random() * (objects - 100));
      kills.push(killAfter);
      for (const u of await sendAndKill(br.port, files, uidOf, br, killAfter)) acknowledged.add(u);
      const victim = br;
      await waitFor('bodyroute to die', () => victim.proc.signalCode === 'SIGKILL', 10000);
      entries.push(...jsonLogLines(victim));
    }
    br = await startBodyroute(tmp, config, 'final');
    const final = br;
    await waitFor(`${acknowledged.size} acknowledged objects delivered`, () => [...acknowledged].every((u) => dest.calls.has(u)), 120000, 250).catch(
      (err: Error) => {
        const missing = [...acknowledged].filter((u) => !dest.calls.has(u));
        throw new Error(
          `${err.message}: ${missing.length} missing (e.g. ${missing.slice(0, 3).join(', ')}); spool holds ${['inbox', 'store'].map((d) => `${d} ${readdirSync(join(tmp, 'spool', d)).length}`).join(', ')}\n${final.logs().split('\n').slice(-15).join('\n')}`,
        );
      },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const duplicates = [...dest.calls.values()].filter((n) => n > 1).length;
    entries.push(...jsonLogLines(final));

    console.log(
      `      ${rounds} kills after ${kills.join(', ')} acknowledgements; ${acknowledged.size} acknowledged, all delivered; ${duplicates} delivered twice (at-least-once)`,
    );
    expect(acknowledged.size).to.be.at.least(kills.reduce((a, b) => a + b, 0));
    expect(readdirSync(join(tmp, 'spool', 'tmp'))).to.deep.equal([]);
    return entries;
  } finally {
    await br?.kill();
    await dest.stop();
  }
}
