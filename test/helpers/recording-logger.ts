import { Writable } from 'node:stream';
import winston from 'winston';
import { Logger } from '../../src/observability/logger';

export interface LogEntry {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A logger whose entries a unit test reads back as data. */
export function recordingLogger(): { log: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) entries.push(JSON.parse(line) as LogEntry);
      callback();
    },
  });
  const log = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { log, entries };
}
