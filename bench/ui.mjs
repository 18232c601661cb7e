// bench/ui's measurement (run by bench/ui, which sets the environment):
// capd replays bench.pcap at --speed max --loop into webd while the
// dashboard is open in headless Chromium for DURATION seconds.
//
// Measures: main-thread long tasks (PerformanceObserver 'longtask', set up
// by addInitScript, collected at the end), the <tr> count of the packet
// table every second, the JS heap (CDP Runtime.getHeapUsage, after a forced
// GC, and performance.memory) at 10 s and at the end, and the rate webd
// ingested (its /api/stats). Prints the figures, then whether the goals
// hold: no long task over 100 ms, rows bounded by the row limit, heap at the
// end within 20 % of the heap at 10 s. Exit status 1 if a goal fails.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const { Backend, sleep, waitFor } = await import(join(HERE, '../tests/e2e/lib/backend.mjs'));
const { launch, newPage, problems } = await import(join(HERE, '../tests/e2e/lib/browser.mjs'));

const PCAP = process.env.BENCH_PCAP;
const DURATION = Number(process.env.BENCH_SECONDS || 60);
const MAX_ROWS = 100; // the dashboard's default row limit

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

async function heap(cdp, page) {
  const raw = await cdp.send('Runtime.getHeapUsage');
  await cdp.send('HeapProfiler.collectGarbage');
  const gc = await cdp.send('Runtime.getHeapUsage');
  const perf = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : null));
  return { raw: raw.usedSize, gc: gc.usedSize, perf };
}

// BENCH_SPEED: capd's --speed. 6000 times the capture's own timing gives
// about 140,000 packets/s (the goal asks for 100,000 or more); max saturates
// both cores of a 2-core machine with capd and webd alone.
const SPEED = process.env.BENCH_SPEED || '6000';
const b = await Backend.start('bench-ui', { pcap: PCAP, speed: SPEED, loop: true, startDelay: 1500 });
const browser = await launch();
let failed = false;
try {
  const page = await newPage(browser);
  await page.addInitScript(longtaskObserver);
  const cdp = await page.context().newCDPSession(page);
  await page.goto(`${b.base}/`);
  await page.waitForSelector('#connection-status[data-state=connected]');
  await waitFor(async () => (await b.packetsReceived()) > 0, { timeout: 15000, what: 'packets at webd' });
  const observer = await page.evaluate(() => window.__longtaskObserver);
  const stats0 = await b.stats();
  const t0 = Date.now();
  const rowSamples = [];
  let heap10 = null;
  const rates = [];
  for (let s = 1; s <= DURATION; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - Date.now()));
    const rows = await page.evaluate(() => ({
      tr: document.querySelectorAll('#packets-body tr').length,
      visible: document.querySelectorAll('#packets-body tr:not([hidden])').length,
      top: Number((document.querySelector('#packets-body tr:not([hidden]) td.c-seq') || {}).textContent || 0),
    }));
    rowSamples.push(rows);
    if (s % 5 === 0)
      rates.push((await b.stats()).pps_5s);
    if (s === 10)
      heap10 = await heap(cdp, page);
  }
  const heapEnd = await heap(cdp, page);
  const stats1 = await b.stats();
  const elapsed = (Date.now() - t0) / 1000;
  const longtasks = await page.evaluate(() => window.__longtasks);
  const s0 = stats0.sensors[0];
  const s1 = stats1.sensors[0];
  const rate = (s1.packets - s0.packets) / elapsed;
  const trMax = Math.max(...rowSamples.map((r) => r.tr));
  const tops = rowSamples.map((r) => r.top);
  const moving = tops.filter((v, i) => i > 0 && v > tops[i - 1]).length;
  const long100 = longtasks.filter((t) => t.ms > 100);
  const heapGrowth = (heapEnd.gc - heap10.gc) / heap10.gc;
  const pageProblems = await problems(page);

  console.log(`bench/ui: ${DURATION} s with the dashboard open, capd --speed ${SPEED} --loop on ${PCAP}`);
  console.log(`  ingest rate (webd /api/stats): ${Math.round(rate).toLocaleString('en-US')} packets/s on average`
    + ` (${(s1.packets - s0.packets).toLocaleString('en-US')} packets in ${elapsed.toFixed(1)} s; pps_5s every 5 s: ${rates.map((r) => Math.round(r / 1000) + 'k').join(' ')})`);
  console.log(`  sequence gaps at webd: ${s1.gaps - s0.gaps} gaps, ${s1.missed - s0.missed} packets missed; rows sampled out of the feed (server): ${(stats1.feed_rows_skipped || 0).toLocaleString('en-US')}`);
  console.log(`  long tasks over 100 ms: ${long100.map((t) => `${t.ms} ms @${(t.start / 1000).toFixed(1)} s`).join(', ') || 'none'}`);
  console.log(`  long tasks (observer: ${observer === true ? 'on' : observer}): ${longtasks.length} over 50 ms, ${long100.length} over 100 ms; longest ${Math.max(0, ...longtasks.map((t) => t.ms))} ms`
    + (longtasks.length ? ` (${longtasks.slice(0, 12).map((t) => `${t.ms} ms @${(t.start / 1000).toFixed(1)} s`).join(', ')}${longtasks.length > 12 ? ', ...' : ''})` : ''));
  console.log(`  table <tr> elements, sampled each second: min ${Math.min(...rowSamples.map((r) => r.tr))}, max ${trMax} (limit ${MAX_ROWS}); newest row number advanced in ${moving} of ${tops.length - 1} samples`);
  console.log(`  JS heap at 10 s: ${mb(heap10.gc)} after GC (${mb(heap10.raw)} before; performance.memory ${heap10.perf === null ? 'n/a' : mb(heap10.perf)})`);
  console.log(`  JS heap at end : ${mb(heapEnd.gc)} after GC (${mb(heapEnd.raw)} before; performance.memory ${heapEnd.perf === null ? 'n/a' : mb(heapEnd.perf)}), ${(heapGrowth * 100).toFixed(1)} % vs 10 s`);
  if (pageProblems.length)
    console.log(`  page problems: ${pageProblems.join(' | ')}`);

  const goals = [
    [`ingest >= 100,000 packets/s`, rate >= 100000],
    ['no long task over 100 ms', long100.length === 0],
    [`table rows bounded (<= ${MAX_ROWS} <tr>)`, trMax <= MAX_ROWS],
    ['the table keeps moving', moving >= (tops.length - 1) * 0.8],
    ['heap at the end within 20 % of the heap at 10 s', Math.abs(heapGrowth) <= 0.2],
  ];
  for (const [what, ok] of goals) {
    console.log(`  goal: ${what}: ${ok ? 'yes' : 'NO'}`);
    if (!ok)
      failed = true;
  }
} finally {
  await browser.close();
  await b.stop();
}
process.exit(failed ? 1 : 0);
