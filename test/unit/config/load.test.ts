import { expect } from 'chai';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, SHIPPED_MODEL } from '../../../src/config/load';

const ROOT = join(__dirname, '..', '..', '..', '..');
const minimal = () => ({
  destinations: [{ name: 'archive', type: 'folder', path: './a' }],
  routes: [{ to: ['archive'] }],
});

describe('config/load', () => {
  it('loads the bundled default config: listen 11112, folder archive, default route', () => {
    const cfg = loadConfig(join(ROOT, 'config', 'bodyroute.yaml'));
    expect(cfg.listen).to.include({ port: 11112, aeTitle: 'BODYROUTE' });
    expect(cfg.destinations).to.have.length(1);
    expect(cfg.destinations[0]).to.include({ name: 'archive', type: 'folder', path: join(ROOT, 'var', 'archive') });
    expect(cfg.spool.dir).to.equal(join(ROOT, 'var', 'spool'));
    expect(cfg.classifier).to.include({ enabled: true, device: 'cpu', model: join(ROOT, 'models', 'bodyregion-cnn.json') });
  });

  it("resolves a config file's relative paths against its own folder, whatever the working directory", () => {
    const cwd = process.cwd();
    try {
      process.chdir('/');
      const cfg = loadConfig(join(ROOT, 'config', 'examples', 'route-by-region.yaml'));
      expect(cfg.spool.dir).to.equal(join(ROOT, 'var', 'spool'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('leaves classification off unless configured, and defaults the model to the shipped one', () => {
    const cfg = parseConfig(minimal(), '/srv/br');
    expect(cfg.classifier).to.include({ enabled: false, device: 'cpu', threads: 1, workers: 1, maxBatch: 16, model: SHIPPED_MODEL });
    expect(() => parseConfig({ ...minimal(), classifier: { device: 'tpu' } }, '/')).to.throw(ConfigError, /classifier\.device/);
  });

  it('loads every example in config/', () => {
    for (const f of ['bodyroute.yaml', 'examples/forward-to-pacs.yaml', 'examples/route-by-region.yaml'])
      expect(() => loadConfig(join(ROOT, 'config', f)), f).not.to.throw();
  });

  it('fills defaults and resolves relative paths against the base directory', () => {
    const cfg = parseConfig(minimal(), '/srv/br');
    expect(cfg.listen).to.deep.include({ host: '0.0.0.0', port: 11112, aeTitle: 'BODYROUTE', allowedCallingAeTitles: [] });
    expect(cfg.spool.dir).to.equal('/srv/br/var/spool');
    expect(cfg.destinations[0]).to.include({ path: '/srv/br/a' });
  });

  it('makes every path the file names absolute as it is parsed: listener and destination TLS files, the model, absolute ones kept', () => {
    const cfg = parseConfig(
      {
        listen: { tls: { cert: 'tls/server.pem', key: '/etc/keys/server.key', ca: '../ca.pem' } },
        destinations: [{ name: 'pacs', type: 'dimse', host: 'h', port: 104, aeTitle: 'PACS', tls: { ca: 'pacs-ca.pem', cert: 'c.pem', key: 'k.pem' } }],
        routes: [{ to: ['pacs'] }],
        classifier: { model: 'models/m.json' },
      },
      '/srv/br',
    );
    expect(cfg.listen.tls).to.include({ cert: '/srv/br/tls/server.pem', key: '/etc/keys/server.key', ca: '/srv/ca.pem' });
    const pacs = cfg.destinations[0];
    expect(pacs.type === 'dimse' && pacs.tls).to.include({ ca: '/srv/br/pacs-ca.pem', cert: '/srv/br/c.pem', key: '/srv/br/k.pem' });
    expect(cfg.classifier.model).to.equal('/srv/br/models/m.json');
  });

  it('names an unknown key', () => {
    expect(() => parseConfig({ ...minimal(), listen: { prot: 104 } }, '/')).to.throw(ConfigError, /listen: unknown key\(s\) "prot"/);
  });

  it('names a key with the wrong type', () => {
    expect(() => parseConfig({ ...minimal(), listen: { port: 'eleven' } }, '/')).to.throw(ConfigError, /listen\.port: Expected number, received string/);
  });

  it('names a missing required key', () => {
    expect(() => parseConfig({ routes: [{ to: ['x'] }] }, '/')).to.throw(ConfigError, /destinations: required key is missing/);
    expect(() => parseConfig({ ...minimal(), destinations: [{ name: 'p', type: 'dimse', host: 'h', port: 104 }] }, '/')).to.throw(
      ConfigError,
      /destinations\[0\]\.aeTitle: required key is missing/,
    );
  });

  it('refuses a route to a destination that does not exist, and duplicate names', () => {
    expect(() => parseConfig({ ...minimal(), routes: [{ to: ['nowhere'] }] }, '/')).to.throw(
      ConfigError,
      /routes\[0\]\.to\[0\]: no destination named "nowhere"/,
    );
    expect(() => parseConfig({ ...minimal(), destinations: [minimal().destinations[0], minimal().destinations[0]] }, '/')).to.throw(
      ConfigError,
      /duplicate destination name/,
    );
  });

  it('refuses an AE title longer than 16 characters', () => {
    expect(() => parseConfig({ ...minimal(), listen: { aeTitle: 'A'.repeat(17) } }, '/')).to.throw(ConfigError, /listen\.aeTitle/);
  });

  it("takes a destination's transferSyntaxes as known UIDs only, naming the bad one", () => {
    const dest = (transferSyntaxes: unknown) => ({
      ...minimal(),
      destinations: [{ name: 'p', type: 'dimse', host: 'h', port: 104, aeTitle: 'PACS', transferSyntaxes }],
      routes: [{ to: ['p'] }],
    });
    expect(parseConfig(dest(['1.2.840.10008.1.2.1']), '/').destinations[0]).to.deep.include({ transferSyntaxes: ['1.2.840.10008.1.2.1'] });
    expect(() => parseConfig(dest(['1.2.840.10008.1.2.1', '1.2.3']), '/')).to.throw(
      ConfigError,
      /destinations\[0\]\.transferSyntaxes\[1\]: "1\.2\.3" is not a transfer syntax bodyroute knows/,
    );
    expect(() => parseConfig(dest([]), '/')).to.throw(ConfigError, /destinations\[0\]\.transferSyntaxes/);
  });
});
