// The real daemons for one test group: wlite-webd (as the wlite user) on a
// fresh 127.0.0.1 port and wlite-capd replaying a file (--read only: never a
// live interface), sharing nanomsg sockets in a private directory (group
// wlite, mode 2770). Every pid goes to $WORK/pids, so that tests/e2e/run can
// stop what a killed test file left behind (by pid, nothing broader).
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(process.env.WLITE_ROOT || join(HERE, '../../..'));
export const SHARED = resolve(process.env.WLITE_SHARED || join(ROOT, '../shared'));
export const BUILD = resolve(process.env.WLITE_BUILD || join(ROOT, 'build'));
export const CAPD = process.env.WLITE_CAPD || join(BUILD, 'capd/wlite-capd');
export const WEBD = process.env.WLITE_WEBD || join(BUILD, 'webd/wlite-webd');
export const CORPUS = join(SHARED, 'pcap-corpus/dev');
export const WEB_ROOT = join(ROOT, 'web');
const GEO_DEFAULT = join(BUILD, 'geo/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
export const GEO = process.env.WLITE_GEO_COUNTRY || (existsSync(GEO_DEFAULT) ? GEO_DEFAULT : '');
export const ARTIFACTS = process.env.WLITE_E2E_ARTIFACTS || join(BUILD, 'e2e-artifacts');
export const WORK = process.env.WLITE_E2E_WORK || mkdtempSync(join(tmpdir(), 'wlite-e2e-'));
// webd runs as wlite and must reach its sockets in a directory below.
chmodSync(WORK, 0o711);

// Flags this webd build knows (a newer one may keep history in a database:
// the tests keep it off, so nothing outside the work directory is touched;
// history.test.mjs passes its own --history PATH, in the work directory, after it).
const WEBD_HELP = (() => {
  try {
    return execFileSync(WEBD, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return String(err.stdout || '');
  }
})();
const WEBD_DEFAULT_ARGS = WEBD_HELP.includes('--history') ? ['--history', 'off'] : [];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until fn() returns a truthy value (awaited); returns it, or throws
// with the last value/error after `timeout` ms.
export async function waitFor(fn, { timeout = 10000, step = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v)
        return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(step);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function wliteGid() {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('wlite:'));
  if (!line)
    throw new Error('no wlite group (tests/e2e/run creates the wlite user)');
  return Number(line.split(':')[2]);
}

let dirCount = 0;

// A private directory for a --history database (group wlite, mode 2770:
// webd writes the database and its -wal/-shm files there); its path.
export function historyDir(name) {
  const dir = join(WORK, `${name}-history-${process.pid}-${++dirCount}`);
  execFileSync('mkdir', ['-p', dir]);
  chownSync(dir, -1, wliteGid());
  chmodSync(dir, 0o2770);
  return dir;
}

export class Backend {
  constructor(name) {
    this.name = name;
    this.dir = join(WORK, `${name}-${process.pid}-${++dirCount}`);
    this.procs = [];
  }

  static async start(name, { pcap, speed = '1', loop = false, startDelay = 500, capdArgs = [], webdArgs = [], geo = true, waitPackets = 0 }) {
    const b = new Backend(name);
    await b.startWebd(webdArgs, geo);
    b.startCapd(pcap, { speed, loop, startDelay, capdArgs });
    if (waitPackets)
      await b.waitPackets(waitPackets);
    return b;
  }

  spawnLogged(cmd, args, log) {
    const fd = openSync(join(this.dir, log), 'a');
    const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    p.exited = new Promise((res) => p.once('exit', (code, sig) => res({ code, sig })));
    appendFileSync(join(WORK, 'pids'), `${p.pid}\n`);
    this.procs.push(p);
    return p;
  }

  async startWebd(extra, geo) {
    execFileSync('mkdir', ['-p', this.dir]);
    chownSync(this.dir, -1, wliteGid());
    chmodSync(this.dir, 0o2770);
    this.pub = `ipc://${this.dir}/pub.sock`;
    this.ctl = `ipc://${this.dir}/ctl.sock`;
    let lastErr = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      this.base = `http://127.0.0.1:${this.port}`;
      const args = ['--reuid', 'wlite', '--regid', 'wlite', '--init-groups', '--', WEBD,
        '--listen', `127.0.0.1:${this.port}`, '--capd', this.pub, '--control', this.ctl,
        '--web-root', WEB_ROOT, '--ip-api', 'off', ...WEBD_DEFAULT_ARGS, ...(geo && GEO ? ['--geo-country', GEO] : []), ...extra];
      this.webd = this.spawnLogged('setpriv', args, 'webd.log');
      try {
        await waitFor(async () => {
          if (this.webd.exitCode !== null)
            throw new Error(`webd exited ${this.webd.exitCode}`);
          const st = await this.json('/api/stats');
          return st.sensors && st.sensors[0] && st.sensors[0].address === this.pub;
        }, { timeout: 15000, what: 'webd to answer /api/stats' });
        return;
      } catch (err) {
        lastErr = `${err.message}\n${this.log('webd.log')}`;
        await this.kill(this.webd);
      }
    }
    throw new Error(`webd did not come up: ${lastErr}`);
  }

  startCapd(pcap, { speed, loop, startDelay, capdArgs }) {
    const args = ['--read', pcap, '--speed', String(speed), '--start-delay', String(startDelay),
      '--publish', this.pub, '--control', this.ctl, ...(loop ? ['--loop'] : []), ...capdArgs];
    this.capd = this.spawnLogged(CAPD, args, 'capd.log');
  }

  log(name, lines = 20) {
    try {
      return readFileSync(join(this.dir, name), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return `(no ${name})`;
    }
  }

  // A GET to webd. A request on a kept-alive connection the server has just
  // closed fails at once ("fetch failed", other side closed): such a
  // network error is retried (twice); an HTTP answer never is.
  async fetch(path, opts = {}) {
    let lastErr = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), opts.timeout || 10000);
      try {
        return await fetch(this.base + path, { ...opts, signal: ctl.signal });
      } catch (err) {
        lastErr = err;
        if (err.name === 'AbortError')
          break;
        await sleep(100);
      } finally {
        clearTimeout(timer);
      }
    }
    const cause = lastErr && lastErr.cause ? ` (${lastErr.cause.code || ''} ${lastErr.cause.message || lastErr.cause})` : '';
    throw new Error(`GET ${path}: ${lastErr && lastErr.message}${cause}`);
  }

  async json(path) {
    const r = await this.fetch(path);
    if (!r.ok)
      throw new Error(`${path}: ${r.status}`);
    return r.json();
  }

  async stats() {
    return this.json('/api/stats');
  }

  // capd's status as webd last heard it.
  async capdStatus() {
    const st = await this.stats();
    return st.sensors[0].capd_status || {};
  }

  // Asks capd itself on its control socket (nanocat, as root): its reply.
  capdControl(request) {
    const out = execFileSync('nanocat', ['--req', '--connect', this.ctl, '--ascii', '--recv-timeout', '5', '--data', JSON.stringify(request)],
      { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (!line)
      throw new Error(`no reply from capd's control socket: ${out}`);
    return JSON.parse(line);
  }

  // webd's newest packet number (its own numbering, what the rows carry).
  async newestSeq() {
    return (await this.json('/api/packets?limit=1')).newest_seq || 0;
  }

  async packetsReceived() {
    const st = await this.stats();
    return st.sensors[0].packets;
  }

  async waitPackets(n, timeout = 20000) {
    return waitFor(async () => (await this.packetsReceived()) >= n, { timeout, what: `${n} packets at webd` });
  }

  async kill(p, timeout = 6000) {
    if (!p || p.exitCode !== null || p.signalCode !== null)
      return;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeout);
    await p.exited;
    clearTimeout(t);
  }

  async stop() {
    await Promise.all(this.procs.map((p) => this.kill(p)));
  }
}
