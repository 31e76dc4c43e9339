import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { PEER_ENV } from './tools';
import { stopAfterSuite } from './suite-fixture';

/**
 * Hosts for multi-host tests: each a network namespace with one veth into a bridge that lives in a
 * namespace of its own (the "switch"), on a private subnet the test chooses. Nothing is added to
 * the machine's own namespace; `teardown()` deletes every namespace (and with them the links).
 * Needs root and iproute2.
 */
export class TestNetwork {
  private readonly namespaces: string[] = [];
  private readonly switchNs: string;

  constructor(
    private readonly prefix: string,
    private readonly subnet: string,
  ) {
    this.switchNs = `${prefix}-sw`;
  }

  /** Creates the switch; call before add(). */
  up(): void {
    this.ns(this.switchNs);
    ip(['netns', 'exec', this.switchNs, 'ip', 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['netns', 'exec', this.switchNs, 'ip', 'link', 'set', 'br0', 'up']);
  }

  /** A host named `name` at `<subnet>.<octet>`; returns its address. */
  add(name: string, octet: number): string {
    const ns = this.hostNs(name);
    this.ns(ns);
    const a = `v${octet}a`;
    const b = `v${octet}b`;
    ip(['link', 'add', a, 'netns', ns, 'type', 'veth', 'peer', 'name', b, 'netns', this.switchNs]);
    ip(['netns', 'exec', this.switchNs, 'ip', 'link', 'set', b, 'master', 'br0']);
    ip(['netns', 'exec', this.switchNs, 'ip', 'link', 'set', b, 'up']);
    const address = `${this.subnet}.${octet}`;
    ip(['netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', a]);
    ip(['netns', 'exec', ns, 'ip', 'link', 'set', a, 'up']);
    return address;
  }

  hostNs(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Starts `command` inside host `name` (stopped after the suite). */
  spawn(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = PEER_ENV): ChildProcess {
    const proc = spawn('ip', ['netns', 'exec', this.hostNs(name), command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    stopAfterSuite(
      () =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
    );
    return proc;
  }

  /** Runs `command` inside host `name` to the end. */
  run(name: string, command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.hostNs(name), command, ...args], { env: PEER_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  teardown(): void {
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }

  private ns(name: string): void {
    spawnSync('ip', ['netns', 'del', name]); // a leftover of an interrupted run
    ip(['netns', 'add', name]);
    this.namespaces.push(name);
    ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  }
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Root and iproute2, which namespaces and veth pairs need. */
export function canBuildNetworks(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
}
