// Headless Debian Chromium through playwright-core, and the guards every
// page gets: console errors, page errors, dialogs and CSP violations are
// recorded (the tests assert there are none), plus screenshots kept as
// artifacts in build/e2e-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS } from './backend.mjs';

// As the machine notes say works here. playwright-core's launch() gives
// every browser a fresh, empty --user-data-dir of its own (a new temporary
// profile, removed on close); it refuses the flag in `args`.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.WLITE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
}

// Runs in every page before its own scripts: records CSP violations and
// anything a payload might set or call.
function guardScript() {
  window.__e2e = { csp: [], alerts: [], pwned: [] };
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__e2e.csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber });
  });
  for (const name of ['alert', 'confirm', 'prompt']) {
    const orig = window[name];
    window[name] = function (...args) {
      window.__e2e.alerts.push(`${name}(${args.map(String).join(',')})`);
      return orig.apply(this, args);
    };
  }
  // The hostile payloads assign these globals: flag any assignment.
  for (const name of ['xss1', 'xss2', 'xss3', 'xss4', 'xss5', 'xss6']) {
    Object.defineProperty(window, name, {
      configurable: false,
      get() { return undefined; },
      set(v) { window.__e2e.pwned.push(`${name}=${v}`); },
    });
  }
}

export async function newPage(browser, { viewport = { width: 1400, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport, timezoneId: 'UTC', locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  const guard = { console: [], pageErrors: [], dialogs: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      const at = msg.location() && msg.location().url;
      guard.console.push(`${msg.type()}: ${msg.text()}${at ? ` (${at})` : ''}`);
    }
  });
  page.on('pageerror', (err) => guard.pageErrors.push(String(err && err.stack || err)));
  page.on('dialog', (d) => {
    guard.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(guardScript);
  page.guard = guard;
  page.setDefaultTimeout(15000);
  return page;
}

// What went wrong in the page so far (an empty list is good). `allow`:
// console messages a test caused on purpose (regular expressions).
export async function problems(page, { allow = [] } = {}) {
  const out = [];
  const g = page.guard;
  for (const c of g.console)
    if (!allow.some((re) => re.test(c)))
      out.push(`console ${c}`);
  for (const e of g.pageErrors)
    out.push(`page error: ${e}`);
  for (const d of g.dialogs)
    out.push(`dialog opened: ${d}`);
  let inPage = { csp: [], alerts: [], pwned: [] };
  try {
    inPage = await page.evaluate(() => window.__e2e);
  } catch (err) {
    out.push(`cannot read the page's guard: ${err.message}`);
  }
  for (const v of inPage.csp)
    out.push(`CSP violation: ${JSON.stringify(v)}`);
  for (const a of inPage.alerts)
    out.push(`script ran: ${a}`);
  for (const p of inPage.pwned)
    out.push(`payload set a global: ${p}`);
  return out;
}

export function artifactName(file, test, suffix = '') {
  const clean = (s) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
  return join(ARTIFACTS, `${clean(file)}--${clean(test)}${suffix}.png`);
}

export async function screenshot(page, file, test, suffix = '') {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = artifactName(file, test, suffix);
  try {
    await page.screenshot({ path, fullPage: true, timeout: 10000 });
  } catch (err) {
    console.error(`# screenshot ${path} failed: ${err.message}`);
  }
  return path;
}

// A test of a group that shares one page: a screenshot after the body (a
// .FAILED one on failure, with the page's problems added to the error).
export function uiTest(test, file, getPage) {
  return (name, optsOrFn, maybeFn) => {
    const [opts, fn] = typeof optsOrFn === 'function' ? [{}, optsOrFn] : [optsOrFn, maybeFn];
    return test(name, { timeout: 90000, ...opts }, async (t) => {
    const page = getPage();
    if (!page)
      throw new Error('no page: the group\'s set-up failed');
    try {
      await fn(t, page);
    } catch (err) {
      await screenshot(page, file, name, '.FAILED');
      const p = await problems(page).catch(() => []);
      if (p.length)
        err.message += `\npage problems so far:\n${p.join('\n')}`;
      throw err;
    }
    await screenshot(page, file, name);
  });
  };
}

// What the page's own markup has (run in the page: page.evaluate(domCensus)):
// hostile payloads must add nothing to it.
export function domCensus() {
  const all = [...document.querySelectorAll('*')];
  const onAttrs = [];
  for (const n of all)
    for (const a of n.attributes)
      if (/^on/i.test(a.name) || /javascript:/i.test(a.value) && ['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name))
        onAttrs.push(`${n.tagName} ${a.name}=${a.value}`);
  return {
    scripts: document.querySelectorAll('script').length,
    imgX: document.querySelectorAll('img[src=x], img[src="x"]').length,
    imgs: document.querySelectorAll('img').length,
    svgs: document.querySelectorAll('svg').length,
    iframes: document.querySelectorAll('iframe, object, embed').length,
    onAttrs,
  };
}

// ---- reading the dashboard -----------------------------------------------------

// The visible table rows as objects of their cells' text. `seq` is the
// number the row shows; `dataSeq` its data-seq attribute (they should agree).
export async function tableRows(page) {
  return page.$$eval('#packets-body tr:not([hidden])', (trs) => trs.map((tr) => {
    const cell = (c) => (tr.querySelector(`td.c-${c}`) || {}).textContent || '';
    return {
      seq: Number(cell('seq')), dataSeq: tr.dataset.seq, dataProto: tr.dataset.proto, alert: tr.classList.contains('row-alert'),
      cells: { seq: cell('seq'), time: cell('time'), proto: cell('proto'), src: cell('src'), dst: cell('dst'), country: cell('country'), name: cell('name'), len: cell('len'), info: cell('info') },
    };
  }));
}

// The packet numbers the visible rows show, top to bottom.
export async function tableSeqs(page) {
  return page.$$eval('#packets-body tr:not([hidden]) td.c-seq', (tds) => tds.map((td) => Number(td.textContent)));
}

// The chart's points, through Chart.js's own registry (Chart.getChart).
export async function chartPoints(page) {
  return page.evaluate(() => {
    const c = window.Chart && window.Chart.getChart(document.getElementById('pps-chart'));
    if (!c)
      return null;
    return c.data.datasets[0].data.map((p) => [p.x, p.y]);
  });
}

// The rows of a live table (Conversations: #conv-body, Endpoints: #ep-body),
// top to bottom: data-key, each cell's text and title by its column id.
export async function liveRows(page, body) {
  return page.$$eval(`${body} tr`, (trs) => trs.map((tr) => {
    const cells = {};
    const titles = {};
    for (const td of tr.cells) {
      const cls = [...td.classList].find((c) => c.startsWith('c-'));
      if (!cls)
        continue;
      cells[cls.slice(2)] = td.textContent;
      titles[cls.slice(2)] = td.title;
    }
    return { key: tr.dataset.key, stale: tr.classList.contains('stale'), selected: tr.classList.contains('selected'), cells, titles };
  }));
}
