import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import { Spool } from '../spool/spool';
import { ExitCode } from './exit-code';
import { SpoolLayout } from '../spool/layout';

export const REQUEUE_HELP = `bodyroute requeue (--all | ID...) [--destination NAME] [--config FILE]
  Sends dead-lettered objects again: moves them from <spool>/dead/<destination>/ to
  <spool>/requeue/<destination>/, where the running router picks them up within seconds
  (or at its next start).`;

export async function requeueCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      all: { type: 'boolean', default: false },
      destination: { type: 'string' },
      config: { type: 'string', short: 'c', default: 'config/bodyroute.yaml' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (!values.all && positionals.length === 0) {
    process.stderr.write(`${REQUEUE_HELP}\n`);
    return ExitCode.Usage;
  }
  const cfg = loadConfig(values.config);
  const layout = new SpoolLayout(cfg.spool.dir);
  const dead = layout.dead;
  const destinations = values.destination ? [values.destination] : await fsp.readdir(dead).catch(() => [] as string[]);
  const wanted = new Set(positionals);
  let moved = 0;
  for (const dest of destinations) {
    if (!cfg.destinations.some((d) => d.name === dest)) {
      process.stderr.write(`bodyroute: no destination named "${dest}" in ${values.config}\n`);
      return ExitCode.Usage;
    }
    const files = await fsp.readdir(join(dead, dest)).catch(() => [] as string[]);
    for (const f of files) {
      const id = Spool.idOfFile(f);
      if (id === undefined || (!values.all && !wanted.has(id))) continue;
      await fsp.mkdir(layout.requeueFor(dest), { recursive: true, mode: 0o700 });
      await fsp.rename(join(layout.deadFor(dest), f), join(layout.requeueFor(dest), f));
      await fsp.unlink(join(dead, dest, `${id}.json`)).catch(() => undefined);
      wanted.delete(id);
      moved++;
      process.stdout.write(`requeued ${id} for ${dest}\n`);
    }
  }
  if (!values.all && wanted.size) {
    process.stderr.write(`bodyroute: not found in the dead letters: ${[...wanted].join(', ')}\n`);
    return ExitCode.Failure;
  }
  process.stdout.write(`${moved} object(s) requeued\n`);
  return ExitCode.Ok;
}
