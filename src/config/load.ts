import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';
import { Config, configSchema, SHIPPED_MODEL } from './schema';

export class ConfigError extends Error {}

export { SHIPPED_MODEL };

function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function describe(err: ZodError): string {
  return err.issues
    .map((i) => {
      const where = formatPath(i.path) || '(top level)';
      if (i.code === 'unrecognized_keys') return `${where}: unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      if (i.code === 'invalid_type' && i.received === 'undefined') return `${where}: required key is missing`;
      return `${where}: ${i.message}`;
    })
    .join('\n');
}

/** A classifier without its model would fail on the first image: say so when the config is loaded. */
function checkModel(manifestPath: string): void {
  let file: unknown;
  try {
    file = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { file?: unknown }).file;
  } catch (err) {
    throw new ConfigError(`classifier.model: cannot read model manifest ${manifestPath}: ${(err as Error).message}`);
  }
  if (typeof file !== 'string') throw new ConfigError(`classifier.model: ${manifestPath} names no model file ("file")`);
  const model = resolve(dirname(manifestPath), file);
  if (!existsSync(model)) throw new ConfigError(`classifier.model: ${manifestPath} names ${model}, which does not exist`);
}

/** Validates an already-parsed document; relative paths are resolved against `baseDir`. */
export function parseConfig(doc: unknown, baseDir: string): Config {
  const result = configSchema(baseDir).safeParse(doc ?? {});
  if (!result.success) throw new ConfigError(describe(result.error));
  const cfg = result.data;
  if (cfg.classifier.enabled) checkModel(cfg.classifier.model);
  return cfg;
}

/**
 * Reads and validates a YAML config. Relative paths resolve against the config file's own
 * folder, so `bodyroute serve --config /etc/bodyroute/bodyroute.yaml` means the same from
 * any working directory (systemd starts services in /).
 */
export function loadConfig(file: string, baseDir = dirname(resolve(file))): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  try {
    return parseConfig(doc, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}:\n${err.message}`);
    throw err;
  }
}
