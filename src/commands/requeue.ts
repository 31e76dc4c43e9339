import { promises as fsp } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import { requeueDeadLetters } from '../dispatch/dead-letter-requeue';
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
  const destinations = values.destination ? [values.destination] : await fsp.readdir(layout.dead).catch(() => [] as string[]);
  for (const dest of destinations) {
    if (!cfg.destinations.some((d) => d.name === dest)) {
      process.stderr.write(`bodyroute: no destination named "${dest}" in ${values.config}\n`);
      return ExitCode.Usage;
    }
  }
  const wanted = new Set(positionals);
  const moved = await requeueDeadLetters(layout, destinations, values.all ? 'all' : wanted);
  for (const m of moved) {
    wanted.delete(m.id);
    process.stdout.write(`requeued ${m.id} for ${m.destination}\n`);
  }
  if (!values.all && wanted.size) {
    process.stderr.write(`bodyroute: not found in the dead letters: ${[...wanted].join(', ')}\n`);
    return ExitCode.Failure;
  }
  process.stdout.write(`${moved.length} object(s) requeued\n`);
  return ExitCode.Ok;
}
