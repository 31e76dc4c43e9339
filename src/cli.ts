#!/usr/bin/env -S node --initial-old-space-size=64
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load';
import { App } from './app';
import { ExitCode } from './commands/exit-code';
import { missingNodeFlags, SERVE_NODE_FLAGS } from './node-flags';
import { CLASSIFY_HELP, classifyCommand } from './commands/classify';
import { DATASET_EXPORT_HELP, datasetExport } from './commands/dataset-export';
import { EVAL_HELP, evalCommand } from './commands/eval';
import { REQUEUE_HELP, requeueCommand } from './commands/requeue';
import { DESTINATION_HELP, destinationCommand } from './commands/destination';
import { DATASET_CORRECTIONS_HELP, datasetCorrections } from './commands/dataset-corrections';
import { VERSION } from './version';
import { errorMessage } from './errors';

const HELP = `bodyroute ${VERSION} - DICOM router that classifies and routes CT/MR images by body region

Usage:
  bodyroute serve [--config FILE]   run the DICOM listener and router (default config: config/bodyroute.yaml)
  bodyroute classify [--json] [--image-only] [--model MANIFEST] [--threads N] PATH...
                                    classify DICOM files and folders; one result per image
  bodyroute eval --labels CSV --images DIR [--json FILE] [--model MANIFEST] [--image-only] [--series]
                                    accuracy (95% CI), per-region P/R/F1, per-modality, confusion matrix
  bodyroute dataset export --labels CSV --images DIR --out DIR [--size N]
                                    preprocess labelled images for training (images.npy + index.json)
  bodyroute dataset corrections --corrections CSV --archive DIR --out CSV
                                    training labels from the status page's label corrections
  bodyroute requeue (--all | ID...) [--destination NAME] [--config FILE]
                                    send dead-lettered objects again
  bodyroute destination (pause | resume) NAME [--config FILE]
                                    stop sending to a destination (it keeps queueing), or start again
  bodyroute --help                  show this help
  bodyroute --version               print the version

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 invalid configuration.
`;

const SERVE_HELP = `bodyroute serve [--config FILE]
  Runs the DICOM listener and router on the config (default config/bodyroute.yaml). Stops cleanly on SIGINT/SIGTERM.
  Exit codes: 1 the spool is in use by another bodyroute or the port cannot be bound, 3 invalid configuration.`;

/** Each command's own usage, for \`bodyroute COMMAND --help\`. */
const COMMAND_HELP: Record<string, string> = {
  serve: SERVE_HELP,
  classify: CLASSIFY_HELP,
  eval: EVAL_HELP,
  'dataset export': DATASET_EXPORT_HELP,
  'dataset corrections': DATASET_CORRECTIONS_HELP,
  requeue: REQUEUE_HELP,
  destination: DESTINATION_HELP,
};

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c', default: 'config/bodyroute.yaml' } }, strict: true });
  const cfg = loadConfig(values.config);
  const app = new App(cfg);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info('shutting down', { signal });
    app.stop().then(
      () => process.exit(ExitCode.Ok),
      (err: Error) => {
        app.log.error('error while shutting down', { reason: err.message });
        process.exit(ExitCode.Failure);
      },
    );
  };
  process.on('SIGHUP', () => {
    try {
      void app.reload(loadConfig(values.config));
    } catch (err) {
      // an invalid new file leaves the running settings as they are
      app.log.error('configuration not reloaded; the running settings stay', { reason: errorMessage(err).replace(/\n/g, ' ') });
    }
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('uncaughtException', (err) => {
    app.log.error('uncaught exception', { reason: err.message, stack: err.stack });
  });
  process.on('unhandledRejection', (err) => {
    app.log.error('unhandled rejection', { reason: err instanceof Error ? err.message : String(err) });
  });
  await app.start(); // a start-up failure (spool in use, port in use) is one line and exit 1, from main()
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length)
    app.log.warn('node was started without the flags bodyroute runs best with: about a third more CPU per image under load (docs/performance.md)', {
      missing: missing.join(' '),
      start: `node ${SERVE_NODE_FLAGS.join(' ')} dist/src/cli.js serve ...`,
    });
  return new Promise<number>(() => undefined); // runs until a signal
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.Ok;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const usage = COMMAND_HELP[command === 'dataset' ? `dataset ${rest[0] === 'corrections' ? 'corrections' : 'export'}` : command];
    if (usage) {
      process.stdout.write(`${usage}\n`);
      return ExitCode.Ok;
    }
  }
  try {
    if (command === 'serve') return await serve(rest);
    if (command === 'classify') return await classifyCommand(rest);
    if (command === 'eval') return await evalCommand(rest);
    if (command === 'dataset' && rest[0] === 'export') return await datasetExport(rest.slice(1));
    if (command === 'dataset' && rest[0] === 'corrections') return await datasetCorrections(rest.slice(1));
    if (command === 'requeue') return await requeueCommand(rest);
    if (command === 'destination') return await destinationCommand(rest);
    process.stderr.write(`bodyroute: unknown command "${command}"\n\n${HELP}`);
    return ExitCode.Usage;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bodyroute: invalid configuration: ${err.message}\n`);
      return ExitCode.Config;
    }
    if (err instanceof TypeError && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bodyroute: ${err.message}\n\n${HELP}`);
      return ExitCode.Usage;
    }
    // one line naming the problem; the stack only for whoever debugs bodyroute itself
    process.stderr.write(`bodyroute: ${process.env.BODYROUTE_DEBUG ? ((err as Error).stack ?? String(err)) : errorMessage(err)}\n`);
    return ExitCode.Failure;
  }
}

if (require.main === module) {
  // `bodyroute classify ... | head` closes stdout early: that is not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.Ok);
    throw err;
  });
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
