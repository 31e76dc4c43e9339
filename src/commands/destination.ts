import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import { PausedDestinations } from '../dispatch/paused-destinations';
import { SpoolLayout } from '../spool/layout';
import { ExitCode } from './exit-code';

export const DESTINATION_HELP = `bodyroute destination (pause | resume) NAME [--config FILE]
  Pauses a destination (it keeps queueing and sends nothing, also across restarts) or resumes it.
  The running router follows within seconds (<spool>/paused.json); the status page has the same buttons.`;

export async function destinationCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c', default: 'config/bodyroute.yaml' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name] = positionals;
  if ((action !== 'pause' && action !== 'resume') || !name || positionals.length !== 2) {
    process.stderr.write(`${DESTINATION_HELP}\n`);
    return ExitCode.Usage;
  }
  const cfg = loadConfig(values.config);
  if (!cfg.destinations.some((d) => d.name === name)) {
    process.stderr.write(`bodyroute: no destination named "${name}" in ${values.config}\n`);
    return ExitCode.Usage;
  }
  const paused = await new PausedDestinations(new SpoolLayout(cfg.spool.dir).paused).set(name, action === 'pause');
  process.stdout.write(`${name} ${action === 'pause' ? 'paused' : 'resumed'}; paused now: ${[...paused].join(', ') || 'none'}\n`);
  return ExitCode.Ok;
}
