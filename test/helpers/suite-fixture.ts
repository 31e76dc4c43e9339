import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './tools';

/**
 * What the helpers start (bodyroute processes, storescp, Orthanc, scripted destinations) registers
 * how to stop it here, so a suite never has to remember to: its fixture stops everything started
 * since its own start, newest first, however the tests ended.
 */
const running: (() => Promise<void>)[] = [];

export function stopAfterSuite(stop: () => Promise<void>): void {
  running.push(stop);
}

/** The view of the suite's shared set-up a test reads. */
export interface SuiteFixture {
  /** The suite's scratch folder (made before its first hook runs, removed after its last). */
  readonly tmp: string;
}

/**
 * The set-up every integration suite shares, registered as mocha hooks of the calling describe():
 * the tools it needs (skipped without them, failed in CI), a scratch folder, and after the suite
 * every process and peer it started stopped and the folder removed. Call it first in the describe
 * body, so its before() runs before the suite's own.
 */
export function suiteFixture(name: string, ...tools: string[]): SuiteFixture {
  let tmp = '';
  let mark = 0;
  before(function () {
    if (tools.length) requireTools(this, ...tools);
    mark = running.length;
    tmp = mkdtempSync(join(tmpdir(), `bodyroute-${name}-`));
  });
  after(async () => {
    for (const stop of running.splice(mark).reverse()) await stop().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  return {
    get tmp() {
      return tmp;
    },
  };
}
