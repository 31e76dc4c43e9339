import winston from 'winston';

/**
 * One logger for the process. Log lines carry no patient data above debug level:
 * info/warn/error name objects by bodyroute's spool id, UIDs, AE titles and addresses only.
 */
export type Logger = winston.Logger;

export interface LoggerOptions {
  level: 'error' | 'warn' | 'info' | 'debug';
  format: 'text' | 'json';
}

const textFormat = winston.format.printf((info) => {
  const { timestamp, level, message, component, ...rest } = info as Record<string, unknown>;
  const fields = Object.entries(rest)
    .filter(([k]) => typeof k === 'string' && !k.startsWith('Symbol('))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const where = component ? ` [${String(component)}]` : '';
  return `${String(timestamp)} ${String(level).toUpperCase()}${where} ${String(message)}${fields ? ' ' + fields : ''}`;
});

/** How lines are written: one JSON object each, or `time LEVEL [component] message key=value …`. */
export function lineFormat(format: LoggerOptions['format']): winston.Logform.Format {
  return winston.format.combine(winston.format.timestamp(), format === 'json' ? winston.format.json() : textFormat);
}

export function createLogger(opts: LoggerOptions): Logger {
  return winston.createLogger({
    level: opts.level,
    format: lineFormat(opts.format),
    // stderr for everything keeps stdout free for command output (classify --json, later).
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
