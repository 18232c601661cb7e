// bench/ui's measurements (run by bench/ui, which sets the environment).
// BENCH_VIEW chooses: "packets", "conversations" or "all" (the default).
//
// packets: capd replays bench.pcap (BENCH_PCAP) in a loop at --speed
// BENCH_SPEED (default 6000: about 140,000 packets/s) into webd while the
// dashboard's Live view is open in headless Chromium for BENCH_SECONDS.
//
// conversations: a capture of BENCH_FLOWS flows (default 100,000: TLS,
// DNS, HTTP and UDP, a packet a second each, both ways in turn, so 100,000
// packets/s; BENCH_SECONDS + 50 s of it, about 1 GB, written into the work
// directory first), replayed by capd at --speed 1 with 5 s active timeouts,
// the flows' starts spread over 5 s, so that webd holds every flow, active,
// and hears of 20,000 of them a second. The page opens on
// #conversations?sort=last once webd holds them all (its load is measured
// too), for BENCH_SECONDS. Then two shorter runs on the same capture, for
// webd's CPU: capd with --no-flows (no flow reports at all), and flows on
// with the page on the Live view (no flow query in the feed).
//
// Measured: main-thread long tasks (PerformanceObserver 'longtask',
// buffered, from the page's first script), the table's <tr> each second,
// the JS heap (CDP, after a forced GC) at 10 s and at the end, what webd
// ingested (/api/stats), its CPU time (/proc/PID/stat) and capd's; for
// conversations also the feed's "flows" messages (CDP's EventSource events:
// how many, how large). Goals: no long task over 100 ms, rows bounded,
// heap at the end within 20 % of the heap at 10 s, the ingest rate (packets:
// >= 100,000/s; conversations: >= 90 % of the capture's), and the table
// moving. Exit status 1 if a goal fails. BENCH_PROFILE=1 and BENCH_TRACE=1
// print where the page's main thread goes (conversations).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { dnsMessage, tcp, tlsClientHello, udp } = await import(join(HERE, '../tests/e2e/lib/pcap.mjs'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RAMP = 5; // s: the flows' starts are spread over this, capd's active timeout (below)

const { Backend, WORK, waitFor } = await import(join(HERE, '../tests/e2e/lib/backend.mjs'));
const { launch, newPage, problems } = await import(join(HERE, '../tests/e2e/lib/browser.mjs'));

const DURATION = Number(process.env.BENCH_SECONDS || 60);
const VIEW = process.env.BENCH_VIEW || 'all';
const MAX_ROWS = 100; // the packet table's default row limit; also the Conversations page
const TICKS = 100; // clock ticks a second (/proc/PID/stat); Linux's USER_HZ

function longtaskObserver() {
  window.__longtasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        window.__longtasks.push({ start: Math.round(e.startTime), ms: Math.round(e.duration) });
    }).observe({ type: 'longtask', buffered: true });
    window.__longtaskObserver = true;
  } catch (err) {
    window.__longtaskObserver = String(err);
  }
}

const mb = (n) => `${(n / 1048576).toFixed(2)} MB`;
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// The heap after a forced GC. The GC is the bench's own work on the page's
// main thread: its time window is kept (page clock), so that a long task it
// makes is not counted against the page (gcWindows).
const gcWindows = [];
async function heap(cdp, page) {
  const raw = await cdp.send('Runtime.getHeapUsage');
  const from = await page.evaluate(() => performance.now());
  await cdp.send('HeapProfiler.collectGarbage');
  const to = await page.evaluate(() => performance.now());
  gcWindows.push([from, to]);
  const gc = await cdp.send('Runtime.getHeapUsage');
  const perf = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : null));
  return { raw: raw.usedSize, gc: gc.usedSize, perf };
}

// Long tasks of the page itself: not those that overlap the bench's forced GCs.
function ownTasks(longtasks) {
  const ours = longtasks.filter((t) => !gcWindows.some(([a, b]) => t.start <= b && t.start + t.ms >= a));
  return { ours, gc: longtasks.length - ours.length };
}

// CPU seconds (user + system) a process has used so far.
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
  } catch {
    return NaN;
  }
}

// Every process below pid (the browser's renderers, GPU and network processes).
function descendants(pid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name))
      continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++)
    for (const [child, ppid] of parent)
      if (ppid === out[i])
        out.push(child);
  return out;
}

// The browser's CPU time, all its processes (renderers, GPU, network: the
// chromium processes below this one), from now: () => {cpu, secs, pct}.
function browserMeter() {
  const comm = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const pids = descendants(process.pid).filter((pid) => /chrom/i.test(comm(pid)));
  const total = () => pids.map(cpuSeconds).filter((c) => Number.isFinite(c)).reduce((a, c) => a + c, 0);
  const t0 = Date.now();
  const c0 = total();
  return () => {
    const secs = (Date.now() - t0) / 1000;
    const cpu = total() - c0;
    return { cpu, secs, pct: (cpu / secs) * 100 };
  };
}

function cpuMeter(pids) {
  const t0 = Date.now();
  const c0 = pids.map(cpuSeconds);
  return () => {
    const secs = (Date.now() - t0) / 1000;
    return pids.map((pid, i) => ({ cpu: cpuSeconds(pid) - c0[i], secs, pct: ((cpuSeconds(pid) - c0[i]) / secs) * 100 }));
  };
}

// BENCH_PROFILE=1: the page's main thread profiled through the run, its
// heaviest functions (self time) printed. Off by default: it slows the page.
async function startProfile(cdp) {
  if (!process.env.BENCH_PROFILE)
    return null;
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const self = new Map();
    profile.samples.forEach((id, i) => {
      const f = byId.get(id).callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i] || 0));
    });
    console.log('  profile (self time):');
    for (const [key, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 20))
      console.log(`    ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  };
}

// BENCH_TRACE=1: a 10 s trace of the page (devtools.timeline), its main
// thread's time by event, printed (what "(program)" in a profile is made of).
async function traceMainThread(page) {
  if (!process.env.BENCH_TRACE)
    return;
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (ev) => events.push(...ev.value));
  const done = new Promise((res) => cdp.once('Tracing.tracingComplete', res));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8', transferMode: 'ReportEvents' });
  await sleep(10000);
  await cdp.send('Tracing.end');
  await done;
  // The renderer's main thread: the one that ran the most RunTask time.
  const byThread = new Map();
  for (const e of events)
    if (e.ph === 'X' && e.name === 'RunTask')
      byThread.set(`${e.pid}:${e.tid}`, (byThread.get(`${e.pid}:${e.tid}`) || 0) + (e.dur || 0));
  const main = [...byThread].sort((x, y) => y[1] - x[1])[0];
  if (!main)
    return;
  const self = new Map();
  for (const e of events)
    if (e.ph === 'X' && `${e.pid}:${e.tid}` === main[0] && e.name !== 'RunTask' && e.name !== 'ThreadControllerImpl::RunTask')
      self.set(e.name, (self.get(e.name) || 0) + (e.dur || 0));
  console.log(`  trace, 10 s, the busiest thread (${(main[1] / 1e4).toFixed(0)} % of the time in tasks), events by total time (nested ones counted in their parents too):`);
  for (const [name, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 15))
    console.log(`    ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  // Each task over 50 ms, and what it was made of (the events inside it, by total time).
  const onMain = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === main[0]);
  const t0 = Math.min(...onMain.map((e) => e.ts));
  for (const task of onMain.filter((e) => e.name === 'RunTask' && e.dur > 50000)) {
    const inside = new Map();
    for (const e of onMain)
      if (e !== task && e.name !== 'RunTask' && e.ts >= task.ts && e.ts + (e.dur || 0) <= task.ts + task.dur)
        inside.set(e.name, (inside.get(e.name) || 0) + (e.dur || 0));
    const top = [...inside].sort((x, y) => y[1] - x[1]).slice(0, 6).map(([n, us]) => `${n} ${(us / 1000).toFixed(0)}`).join(', ');
    console.log(`    task of ${(task.dur / 1000).toFixed(0)} ms @${((task.ts - t0) / 1e6).toFixed(1)} s: ${top}`);
  }
}

// The page's main-thread time by kind (CDP Performance metrics), between two calls.
async function mainThread(cdp) {
  await cdp.send('Performance.enable');
  const read = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const m0 = await read();
  return async (seconds) => {
    const m1 = await read();
    const d = (k) => (m1[k] || 0) - (m0[k] || 0);
    const pct = (k) => `${((d(k) / seconds) * 100).toFixed(0)} %`;
    return `main thread busy ${pct('TaskDuration')} of the time (script ${pct('ScriptDuration')}, style ${pct('RecalcStyleDuration')}, layout ${pct('LayoutDuration')}); ${fmt(d('LayoutCount'))} layouts, ${fmt(d('RecalcStyleCount'))} style recalcs`;
  };
}

function reportGoals(goals) {
  let ok = true;
  for (const [what, pass] of goals) {
    console.log(`  goal: ${what}: ${pass ? 'yes' : 'NO'}`);
    if (!pass)
      ok = false;
  }
  return ok;
}

function printLongTasks(observer, all) {
  const { ours: longtasks, gc } = ownTasks(all);
  if (gc)
    console.log(`  (${gc} long task${gc === 1 ? '' : 's'} during the bench's own forced GCs for the heap figures, not counted)`);
  const long100 = longtasks.filter((t) => t.ms > 100);
  console.log(`  long tasks over 100 ms: ${long100.map((t) => `${t.ms} ms @${(t.start / 1000).toFixed(1)} s`).join(', ') || 'none'}`);
  console.log(`  long tasks (observer: ${observer === true ? 'on' : observer}): ${longtasks.length} over 50 ms, ${long100.length} over 100 ms; longest ${Math.max(0, ...longtasks.map((t) => t.ms))} ms`
    + (longtasks.length ? ` (${longtasks.slice(0, 12).map((t) => `${t.ms} ms @${(t.start / 1000).toFixed(1)} s`).join(', ')}${longtasks.length > 12 ? ', ...' : ''})` : ''));
  return long100;
}

// Samples the page once a second for `seconds`: rows (sample()), the heap at 10 s.
async function sampleRun(page, cdp, seconds, sample, every5) {
  const t0 = Date.now();
  const samples = [];
  let heap10 = null;
  for (let s = 1; s <= seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - Date.now()));
    samples.push(await page.evaluate(sample));
    if (s % 5 === 0 && every5)
      await every5();
    if (s === 10)
      heap10 = await heap(cdp, page);
  }
  const heapEnd = await heap(cdp, page);
  return { samples, heap10, heapEnd, elapsed: (Date.now() - t0) / 1000 };
}

function printHeap(heap10, heapEnd) {
  const growth = (heapEnd.gc - heap10.gc) / heap10.gc;
  console.log(`  JS heap at 10 s: ${mb(heap10.gc)} after GC (${mb(heap10.raw)} before; performance.memory ${heap10.perf === null ? 'n/a' : mb(heap10.perf)})`);
  console.log(`  JS heap at end : ${mb(heapEnd.gc)} after GC (${mb(heapEnd.raw)} before; performance.memory ${heapEnd.perf === null ? 'n/a' : mb(heapEnd.perf)}), ${(growth * 100).toFixed(1)} % vs 10 s`);
  return growth;
}

// ==================================================================== packets

async function benchPackets(browser) {
  const PCAP = process.env.BENCH_PCAP;
  // 6000 times the capture's own timing gives about 140,000 packets/s (the
  // goal asks for 100,000 or more); max saturates both cores of a 2-core
  // machine with capd and webd alone.
  const SPEED = process.env.BENCH_SPEED || '6000';
  const b = await Backend.start('bench-ui', { pcap: PCAP, speed: SPEED, loop: true, startDelay: 1500 });
  try {
    gcWindows.length = 0;
    const page = await newPage(browser);
    await page.addInitScript(longtaskObserver);
    const cdp = await page.context().newCDPSession(page);
    await page.goto(`${b.base}/`);
    await page.waitForSelector('#connection-status[data-state=connected]');
    await waitFor(async () => (await b.packetsReceived()) > 0, { timeout: 15000, what: 'packets at webd' });
    const observer = await page.evaluate(() => window.__longtaskObserver);
    const stats0 = await b.stats();
    const rates = [];
    const cpu = cpuMeter([b.webd.pid, b.capd.pid]);
    const browserCpu = browserMeter();
    const threadTime = await mainThread(cdp);
    const run = await sampleRun(page, cdp, DURATION, () => ({
      tr: document.querySelectorAll('#packets-body tr').length,
      top: Number((document.querySelector('#packets-body tr:not([hidden]) td.c-seq') || {}).textContent || 0),
    }), async () => rates.push((await b.stats()).pps_5s));
    const [webdCpu, capdCpu] = cpu();
    const chromium = browserCpu();
    const thread = await threadTime(run.elapsed);
    const stats1 = await b.stats();
    const longtasks = await page.evaluate(() => window.__longtasks);
    const s0 = stats0.sensors[0];
    const s1 = stats1.sensors[0];
    const rate = (s1.packets - s0.packets) / run.elapsed;
    const trMax = Math.max(...run.samples.map((r) => r.tr));
    const tops = run.samples.map((r) => r.top);
    const moving = tops.filter((v, i) => i > 0 && v > tops[i - 1]).length;

    console.log(`bench/ui packets: ${DURATION} s with the Live view open, capd --speed ${SPEED} --loop on ${PCAP}`);
    console.log(`  ingest rate (webd /api/stats): ${fmt(rate)} packets/s on average (${fmt(s1.packets - s0.packets)} packets in ${run.elapsed.toFixed(1)} s; pps_5s every 5 s: ${rates.map((r) => `${Math.round(r / 1000)}k`).join(' ')})`);
    console.log(`  sequence gaps at webd: ${s1.gaps - s0.gaps} gaps, ${s1.missed - s0.missed} packets missed; rows sampled out of the feed (server): ${fmt(stats1.feed_rows_skipped || 0)}`);
    console.log(`  CPU: webd ${webdCpu.pct.toFixed(0)} % of a core, capd ${capdCpu.pct.toFixed(0)} %, Chromium (all its processes) ${chromium.pct.toFixed(0)} %; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`  the page: ${thread}`);
    const long100 = printLongTasks(observer, longtasks);
    console.log(`  table <tr> elements, sampled each second: min ${Math.min(...run.samples.map((r) => r.tr))}, max ${trMax} (limit ${MAX_ROWS}); newest row number advanced in ${moving} of ${tops.length - 1} samples`);
    const growth = printHeap(run.heap10, run.heapEnd);
    const pageProblems = await problems(page);
    if (pageProblems.length)
      console.log(`  page problems: ${pageProblems.join(' | ')}`);
    return reportGoals([
      ['ingest >= 100,000 packets/s', rate >= 100000],
      ['no long task over 100 ms', long100.length === 0],
      [`table rows bounded (<= ${MAX_ROWS} <tr>)`, trMax <= MAX_ROWS],
      ['the table keeps moving', moving >= (tops.length - 1) * 0.8],
      ['heap at the end within 20 % of the heap at 10 s', Math.abs(growth) <= 0.2],
    ]);
  } finally {
    await b.stop();
  }
}

// ==================================================================== conversations

// One frame per flow and direction, built once: flow i is TLS (its first
// packet a ClientHello that names it, then application data), DNS (a
// question), HTTP (a Host) or plain UDP; 10.x clients, 172.16-31.x servers. TCP sequence numbers are written per
// packet as it goes out, so that no segment looks retransmitted.
function buildFrames(nFlows) {
  const frames = [];
  for (let i = 0; i < nFlows; i++) {
    const c = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const s = `172.${16 + (i % 16)}.${(i >> 8) & 255}.${(i * 7) & 255}`;
    const sport = 10000 + (i % 50000);
    const kind = i % 10;
    let up;
    let down;
    let isTcp = false;
    let first = null;
    if (kind < 5) {
      // A ClientHello first (the flow's name), then application data records.
      first = tcp(c, s, sport, 443, tlsClientHello(`h${i}.bench.example`), { seq: 1, ack: 1 });
      up = tcp(c, s, sport, 443, Buffer.concat([Buffer.from([0x17, 3, 3, 0, 120]), Buffer.alloc(120, 0x42)]), { seq: 1, ack: 1 });
      down = tcp(s, c, 443, sport, Buffer.concat([Buffer.from([0x17, 3, 3, 0, 95]), Buffer.alloc(95, 0x24)]), { seq: 1, ack: 1 });
      isTcp = true;
    } else if (kind < 7) {
      up = udp(c, s, sport, 53, dnsMessage({ id: i & 0xffff, question: [`q${i}`, 'bench', 'example'] }));
      down = udp(s, c, 53, sport, dnsMessage({ id: i & 0xffff, response: true, question: [`q${i}`, 'bench', 'example'] }));
    } else if (kind < 8) {
      up = tcp(c, s, sport, 80, Buffer.from(`GET / HTTP/1.1\r\nHost: w${i}.bench.example\r\n\r\n`), { seq: 1, ack: 1 });
      down = tcp(s, c, 80, sport, Buffer.alloc(200, 0x20), { seq: 1, ack: 1 });
      isTcp = true;
    } else {
      up = udp(c, s, sport, 9000 + kind, Buffer.alloc(120, 0x55));
      down = udp(s, c, 9000 + kind, sport, Buffer.alloc(60, 0x55));
    }
    frames.push({ first: first || up, up, down, isTcp });
  }
  return frames;
}

// Writes a capture of `seconds` into path: each second, every flow that
// has begun sends one packet (up and down in turn, from its first), flow i
// at i/N of the second, so pps = N once all have begun. Flow i begins in
// second floor(RAMP * i / N): the flows' starts, and so their
// active-timeout reports, are spread over RAMP seconds instead of all
// falling in the same second every 5 s. capd replays it at --speed 1. (A
// FIFO fed live was tried first: capd reads a pipe a packet at a time, with
// a poll before each, and spent 60 % of a core at 100,000 packets/s; a file
// is read as a live capture would be, in blocks.)
async function writeCapture(path, frames, seconds) {
  const out = createWriteStream(path);
  const N = frames.length;
  const t0us = Math.floor(Date.now() / 1000) * 1e6;
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  out.write(head);
  const seqs = new Uint32Array(N * 2);
  const maxLen = Math.max(...frames.map((f) => Math.max(f.first.length, f.up.length, f.down.length)));
  const BATCH = 4000;
  let written = 0;
  for (let round = 0; round < seconds; round++) {
    const begun = Math.min(N, Math.ceil((N * (round + 1)) / RAMP)); // flows 0..begun-1 send this second
    for (let i = 0; i < begun;) {
      const buf = Buffer.allocUnsafe(BATCH * (16 + maxLen));
      let off = 0;
      for (let k = 0; k < BATCH && i < begun; k++, i++) {
        const f = frames[i];
        const start = Math.floor((RAMP * i) / N); // the second flow i began
        const dir = (round - start) & 1;
        const frame = round === start ? f.first : dir ? f.down : f.up;
        const us = t0us + round * 1e6 + Math.floor((i * 1e6) / N);
        buf.writeUInt32LE(Math.floor(us / 1e6), off);
        buf.writeUInt32LE(us % 1e6, off + 4);
        buf.writeUInt32LE(frame.length, off + 8);
        buf.writeUInt32LE(frame.length, off + 12);
        frame.copy(buf, off + 16);
        if (f.isTcp) {
          const slot = i * 2 + dir;
          buf.writeUInt32BE(seqs[slot], off + 16 + 38); // Ethernet 14 + IPv4 20 + 4
          seqs[slot] = (seqs[slot] + frame.length - 54) >>> 0;
        }
        off += 16 + frame.length;
        written++;
      }
      if (!out.write(buf.subarray(0, off)))
        await new Promise((res) => out.once('drain', res));
    }
  }
  await new Promise((res, rej) => out.end((err) => (err ? rej(err) : res())));
  return written;
}

async function withFlowStream(name, pcap, { capdArgs }, body) {
  const b = new Backend(name);
  await b.startWebd([], false);
  b.startCapd(pcap, { speed: '1', loop: false, startDelay: 0, capdArgs });
  try {
    return await body(b);
  } finally {
    await b.stop();
  }
}

async function openConversations(browser, b) {
  gcWindows.length = 0; // times of another page's clock
  const page = await newPage(browser);
  await page.addInitScript(longtaskObserver);
  const cdp = await page.context().newCDPSession(page);
  const flowMessages = { n: 0, bytes: 0, flows: 0 };
  await cdp.send('Network.enable');
  cdp.on('Network.eventSourceMessageReceived', (ev) => {
    if (ev.eventName === 'flows') {
      flowMessages.n++;
      flowMessages.bytes += ev.data.length;
    }
  });
  // Sorted by last seen: every flows message reorders the page (by bytes,
  // the biggest flows change only at their own reports, every 5 s).
  await page.goto(`${b.base}/#conversations?sort=last${process.env.BENCH_CONV_LIMIT ? `&limit=${process.env.BENCH_CONV_LIMIT}` : ''}`);
  await page.waitForSelector('#connection-status[data-state=connected]');
  await waitFor(async () => (await page.$$('#conv-body tr')).length > 0, { timeout: 20000, what: 'flows in the table' });
  return { page, cdp, flowMessages };
}

async function benchConversations(browser) {
  const N = Number(process.env.BENCH_FLOWS || 100000);
  const PPS = N; // a packet per flow per second
  // Long enough for the runs below: each replays it from its start.
  const SECONDS = Number(process.env.BENCH_FLOW_CAPTURE_SECONDS || DURATION + 50);
  const pcap = join(WORK, 'flows-bench.pcap');
  const t = Date.now();
  const written = await writeCapture(pcap, buildFrames(N), SECONDS);
  console.log(`bench/ui conversations: ${fmt(N)} flows, ${fmt(PPS)} packets/s: a ${SECONDS} s capture of ${fmt(written)} packets (${(statSync(pcap).size / 1e9).toFixed(2)} GB, written in ${((Date.now() - t) / 1000).toFixed(0)} s), replayed by capd at --speed 1`);
  const capdFlows = ['--flow-active-timeout', String(RAMP), '--max-flows', String(Math.max(1000000, N * 2))];
  const webdCpu = {};
  let ok = true;

  // 1. Flows on, the Conversations view open: the page, and webd's CPU.
  await withFlowStream('bench-conv', pcap, { capdArgs: capdFlows }, async (b) => {
    const full = await waitFor(async () => {
      const st = await b.stats();
      return st.flows && st.flows.active >= N ? st : false;
    }, { timeout: 60000, step: 500, what: `webd to hold ${N} active flows` });
    console.log(`  webd holds ${fmt(full.flows.active)} active flows (${fmt(full.flows.held)} held, ${fmt(full.flows.reports)} reports so far)`);
    const { page, cdp, flowMessages } = await openConversations(browser, b);
    const observer = await page.evaluate(() => window.__longtaskObserver);
    await traceMainThread(page);
    const stats0 = await b.stats();
    const msgs0 = { ...flowMessages };
    const cpu = cpuMeter([b.webd.pid, b.capd.pid]);
    const browserCpu = browserMeter();
    const threadTime = await mainThread(cdp);
    const stopProfile = await startProfile(cdp);
    const active = [];
    const run = await sampleRun(page, cdp, DURATION, () => ({
      tr: document.querySelectorAll('#conv-body tr').length,
      total: Number(document.getElementById('conv-table').dataset.total || 0),
      // Whether the page moved: the bytes of every row shown.
      top: [...document.querySelectorAll('#conv-body tr')].map((tr) => `${tr.dataset.key}=${(tr.querySelector('td.c-bytes') || {}).title}`).join(),
      held: document.getElementById('conv-table').dataset.held,
      first: (document.querySelector('#conv-body tr td.c-last') || {}).title,
    }), async () => active.push((await b.stats()).flows.active));
    if (process.env.BENCH_DEBUG)
      console.log(run.samples.map((x) => `${x.held} ${x.first} ${x.top.length}`).join('\n'));
    const [wc, cc] = cpu();
    const chromium = browserCpu();
    const thread = await threadTime(run.elapsed);
    if (stopProfile)
      await stopProfile();
    const stats1 = await b.stats();
    // Per packet, so that runs whose ingest the machine held to different rates compare.
    const ingested = stats1.sensors[0].packets - stats0.sensors[0].packets;
    webdCpu.flows = { pct: wc.pct, usPerPacket: (wc.cpu * 1e6) / ingested, reportsPerPacket: (stats1.flows.reports - stats0.flows.reports) / ingested };
    const longtasks = await page.evaluate(() => window.__longtasks);
    const s0 = stats0.sensors[0];
    const s1 = stats1.sensors[0];
    const rate = (s1.packets - s0.packets) / run.elapsed;
    const reports = (stats1.flows.reports - stats0.flows.reports) / run.elapsed;
    const trMax = Math.max(...run.samples.map((r) => r.tr));
    const tops = run.samples.map((r) => r.top);
    const moving = tops.filter((v, i) => i > 0 && v !== tops[i - 1]).length;
    const msgs = flowMessages.n - msgs0.n;

    console.log(`  ${DURATION} s with the Conversations view open (the ${MAX_ROWS} last seen), page load included`);
    const times = [];
    for (let i = 0; i < 7; i++) {
      const t0 = process.hrtime.bigint();
      await b.json('/api/flows?sort=bytes&limit=100');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    console.log(`  /api/flows?sort=bytes&limit=100 over ${fmt(N)} flows: median ${times[3].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[6].toFixed(1)})`);
    console.log(`  ingest (webd /api/stats): ${fmt(rate)} packets/s (the capture's rate: ${fmt(PPS)}), ${fmt(reports)} flow reports/s; active flows every 5 s: ${active.map((a) => `${Math.round(a / 1000)}k`).join(' ')}`);
    console.log(`  sequence gaps at webd: packets ${s1.gaps - s0.gaps} (${s1.missed - s0.missed} missed), flow reports ${(s1.flow_gaps || 0) - (s0.flow_gaps || 0)} (${(s1.flow_reports_missed || 0) - (s0.flow_reports_missed || 0)} missed)`);
    console.log(`  feed "flows" messages: ${fmt(msgs)} in ${run.elapsed.toFixed(1)} s (${(msgs / run.elapsed).toFixed(1)}/s, at most 10), ${fmt((flowMessages.bytes - msgs0.bytes) / Math.max(1, msgs))} bytes each`);
    console.log(`  CPU: webd ${wc.pct.toFixed(0)} % of a core (${wc.cpu.toFixed(1)} s in ${wc.secs.toFixed(1)} s, ${webdCpu.flows.usPerPacket.toFixed(2)} µs a packet), capd ${cc.pct.toFixed(0)} %, Chromium (all its processes) ${chromium.pct.toFixed(0)} %; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`  the page: ${thread}`);
    const long100 = printLongTasks(observer, longtasks);
    console.log(`  table <tr>, sampled each second: min ${Math.min(...run.samples.map((r) => r.tr))}, max ${trMax} (page of ${MAX_ROWS}); the rows (or their bytes) changed in ${moving} of ${tops.length - 1} samples; flows matching ${fmt(run.samples[run.samples.length - 1].total)}`);
    const growth = printHeap(run.heap10, run.heapEnd);
    const pageProblems = await problems(page);
    if (pageProblems.length)
      console.log(`  page problems: ${pageProblems.join(' | ')}`);
    await page.context().close();
    ok = reportGoals([
      [`webd holds >= ${fmt(N)} active flows throughout`, Math.min(...active) >= N],
      [`ingest >= 90 % of the capture's ${fmt(PPS)} packets/s`, rate >= PPS * 0.9],
      ['no long task over 100 ms (page load included)', long100.length === 0],
      [`table rows bounded (<= ${MAX_ROWS} <tr>)`, trMax <= MAX_ROWS],
      ['the table keeps moving', moving >= (tops.length - 1) * 0.8],
      ['at most 10 flows messages a second', msgs / run.elapsed <= 10.5],
      ['heap at the end within 20 % of the heap at 10 s', Math.abs(growth) <= 0.2],
    ]) && ok;
  });

  // 2. and 3. webd's CPU without flows, and with flows but no flow query.
  const CPU_SECONDS = Math.min(30, DURATION);
  for (const [key, label, capdArgs, hash] of [
    ['noflows', 'capd --no-flows, Conversations open', ['--no-flows'], '#conversations'],
    ['noquery', 'flows on, the Live view open (no flow query)', capdFlows, ''],
  ]) {
    await withFlowStream(`bench-${key}`, pcap, { capdArgs }, async (b) => {
      if (key === 'noflows')
        await waitFor(async () => (await b.packetsReceived()) > PPS * 5, { timeout: 30000, what: 'packets' });
      else
        await waitFor(async () => (await b.stats()).flows.active >= N, { timeout: 60000, step: 500, what: `${N} active flows` });
      const page = await newPage(browser);
      await page.goto(`${b.base}/${hash}`);
      await page.waitForSelector('#connection-status[data-state=connected]');
      await sleep(2000);
      const s0 = (await b.stats()).sensors[0].packets;
      const cpu = cpuMeter([b.webd.pid, b.capd.pid]);
      await sleep(CPU_SECONDS * 1000);
      const [wc, cc] = cpu();
      const packets = (await b.stats()).sensors[0].packets - s0;
      webdCpu[key] = { pct: wc.pct, usPerPacket: (wc.cpu * 1e6) / packets };
      console.log(`  ${label}: webd ${wc.pct.toFixed(0)} % of a core, ${webdCpu[key].usPerPacket.toFixed(2)} µs a packet; capd ${cc.pct.toFixed(0)} %; ingest ${fmt(packets / wc.secs)} packets/s (${CPU_SECONDS} s)`);
      await page.context().close();
    });
  }
  const f = webdCpu.flows;
  const extra = f.usPerPacket - webdCpu.noflows.usPerPacket;
  console.log(`  webd's CPU a packet: ${f.usPerPacket.toFixed(2)} µs with flows and the view open, ${webdCpu.noquery.usPerPacket.toFixed(2)} µs with flows and no flow query, ${webdCpu.noflows.usPerPacket.toFixed(2)} µs without flows`);
  console.log(`  webd's CPU for flows: ${extra.toFixed(2)} µs a packet (${(extra / f.reportsPerPacket).toFixed(1)} µs a flow report, at ${f.reportsPerPacket.toFixed(2)} reports a packet), ${((extra * PPS) / 1e4).toFixed(0)} % of a core at ${fmt(PPS)} packets/s; of it the view's flow query ${(f.usPerPacket - webdCpu.noquery.usPerPacket).toFixed(2)} µs a packet`);
  return ok;
}

// ==================================================================== main

const browser = await launch();
let ok = true;
try {
  if (VIEW === 'packets' || VIEW === 'all')
    ok = (await benchPackets(browser)) && ok;
  if (VIEW === 'conversations' || VIEW === 'all')
    ok = (await benchConversations(browser)) && ok;
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
