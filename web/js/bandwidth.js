// Bandwidth by application: bytes per second, stacked by the packets'
// application (the row's highest protocol: TLS, HTTP, DNS, ... or TCP and
// UDP when nothing above was decoded), on the arrival clock: a point is a
// second of this page's clock, as the feed's updates arrive, whatever the
// capture's own timestamps say (a replay at 100x shows what arrives now).
//
// The total of each second is exact: the difference of the summary's byte
// counter (every packet webd ingested) between updates. The feed's rows are
// a sample, spread evenly over what arrived (at most --feed-rows an update),
// so the split between applications is the sample's, scaled to that total.
// (The summary has no per-application byte counter: with one, the split
// would be exact too.)
import { formatBytes } from './dom.js';

const WINDOW = 300; // seconds drawn
const TOP = 6; // applications drawn on their own; the rest is "Other"
const COLORS = {
  TLS: '#c678dd', HTTP: '#98c379', DNS: '#56b6c2', MDNS: '#2aa198', QUIC: '#e06cc0', TCP: '#4ea1ff',
  UDP: '#d19a66', ICMP: '#e06c75', ICMPv6: '#e06c75', ARP: '#e5c07b', SSH: '#61afef', Other: '#8b97a5',
};
const SPARE = ['#b5cea8', '#ce9178', '#9cdcfe', '#dcdcaa', '#f44747', '#6a9955', '#c586c0', '#4ec9b0'];

function colorOf(app) {
  if (COLORS[app])
    return COLORS[app];
  let h = 0;
  for (const c of app)
    h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return SPARE[h % SPARE.length];
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const appOf = (row) => String(row.proto || row.l3 || 'Other');

export class BandwidthChart {
  // isShown: whether the chart's view is on screen (no layout read: see chart.js).
  constructor({ canvas, now, clock = () => Date.now(), isShown = () => true }) {
    this.canvas = canvas;
    this.isShown = isShown;
    this.nowNote = now;
    this.clock = clock;
    this.seconds = new Map(); // second -> Map(app -> bytes)
    this.prevBytes = null;
    this.frozen = false;
    this.chart = null;
    this.drawnSecond = 0;
    this.firstSecond = 0; // the first second with data: the x axis starts there until the window is full
    this.apps = []; // the datasets' applications, in order
    this.created = false; // Chart.js is built on the first drawing (see chart.js)
    // A point is due every second even when no update comes (a quiet feed).
    setInterval(() => this.maybeDraw(), 1000);
  }

  create() {
    if (!window.Chart) {
      this.nowNote.textContent = 'chart unavailable (Chart.js did not load)';
      return;
    }
    const Chart = window.Chart;
    this.chart = new Chart(this.canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', ticks: { maxTicksLimit: 6, maxRotation: 0, callback: (v) => timeOfDay(v) } },
          y: { stacked: true, beginAtZero: true, ticks: { maxTicksLimit: 5, callback: (v) => `${formatBytes(v)}/s` } },
        },
        plugins: {
          legend: { display: true, position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? `${timeOfDay(items[0].parsed.x)} (arrival)` : ''),
              label: (item) => `${item.dataset.label}: ${formatBytes(item.parsed.y)}/s`,
            },
          },
        },
      },
    });
    this.applyTheme();
  }

  applyTheme() {
    if (!this.chart)
      return;
    for (const axis of ['x', 'y']) {
      this.chart.options.scales[axis].grid = { color: cssVar('--grid', 'rgba(128,128,128,0.2)') };
      this.chart.options.scales[axis].ticks.color = cssVar('--muted', '#888');
    }
    this.chart.options.plugins.legend.labels.color = cssVar('--muted', '#888');
    this.chart.update('none');
  }

  // One feed update: its sampled rows and its summary.
  add({ rows, summary }) {
    if (!summary || typeof summary.bytes !== 'number')
      return;
    const total = summary.bytes;
    const prev = this.prevBytes;
    this.prevBytes = total;
    if (prev === null || total < prev)
      return; // the first update, or webd started over
    const delta = total - prev;
    if (!delta)
      return;
    const second = Math.floor(this.clock() / 1000);
    let bucket = this.seconds.get(second);
    if (!this.firstSecond)
      this.firstSecond = second;
    if (!bucket) {
      bucket = new Map();
      this.seconds.set(second, bucket);
      this.trim(second);
    }
    const split = this.split(rows);
    if (!split.size) {
      bucket.set('Other', (bucket.get('Other') || 0) + delta);
      return;
    }
    let sampled = 0;
    for (const v of split.values())
      sampled += v;
    for (const [app, v] of split)
      bucket.set(app, (bucket.get(app) || 0) + (delta * v) / sampled);
  }

  // app -> bytes of the update's sampled rows.
  split(rows) {
    const out = new Map();
    for (const row of rows || [])
      if (row && typeof row.len === 'number')
        out.set(appOf(row), (out.get(appOf(row)) || 0) + row.len);
    return out;
  }

  trim(now) {
    for (const s of this.seconds.keys())
      if (s < now - WINDOW - 5)
        this.seconds.delete(s);
  }

  setFrozen(frozen) {
    this.frozen = frozen;
    if (!frozen)
      this.maybeDraw(true);
  }

  // Once a second completes (and the canvas is on screen).
  maybeDraw(force = false) {
    const last = Math.floor(this.clock() / 1000) - 1; // the newest complete second
    if (this.frozen || (!force && last === this.drawnSecond) || !this.isShown())
      return;
    this.drawnSecond = last;
    this.draw(last);
  }

  draw(last) {
    if (!this.created) {
      this.created = true;
      this.create();
    }
    const from = Math.max(last - WINDOW + 1, Math.min(this.firstSecond || last, last - 10));
    const totals = new Map();
    for (const [s, bucket] of this.seconds)
      if (s >= from && s <= last)
        for (const [app, v] of bucket)
          totals.set(app, (totals.get(app) || 0) + v);
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([app]) => app).filter((a) => a !== 'Other');
    const top = ranked.slice(0, TOP);
    const apps = ranked.length > TOP || totals.has('Other') ? [...top, 'Other'] : top;
    const series = new Map(apps.map((a) => [a, []]));
    for (let s = from; s <= last; s++) {
      const bucket = this.seconds.get(s);
      const other = { v: 0 };
      for (const a of apps)
        series.get(a).push({ x: s, y: 0 });
      if (!bucket)
        continue;
      const at = s - from;
      for (const [app, v] of bucket) {
        if (series.has(app) && app !== 'Other')
          series.get(app)[at].y += v;
        else
          other.v += v;
      }
      if (series.has('Other'))
        series.get('Other')[at].y += other.v;
    }
    this.renderNow(last, apps, series);
    if (!this.chart)
      return;
    if (apps.join('\n') !== this.apps.join('\n')) {
      this.apps = apps;
      this.chart.data.datasets = apps.map((app, i) => ({
        label: app,
        data: [],
        borderWidth: 1,
        pointRadius: 0,
        tension: 0,
        fill: i === 0 ? 'origin' : '-1',
        borderColor: colorOf(app),
        backgroundColor: `${colorOf(app)}99`,
      }));
    }
    this.chart.data.datasets.forEach((ds, i) => {
      ds.data = series.get(apps[i]);
    });
    this.chart.options.scales.x.min = from;
    this.chart.options.scales.x.max = last;
    this.chart.update('none');
  }

  // The newest second in words (and for tests: its total in data-total).
  renderNow(last, apps, series) {
    const parts = [];
    let total = 0;
    for (const app of apps) {
      const points = series.get(app);
      const v = points.length ? points[points.length - 1].y : 0;
      total += v;
      if (v > 0)
        parts.push(`${app} ${formatBytes(v)}/s`);
    }
    this.canvas.dataset.second = String(last);
    this.canvas.dataset.total = String(Math.round(total));
    this.canvas.dataset.apps = apps.join(',');
    const text = parts.length ? `last second: ${parts.join(' · ')}` : 'last second: nothing arrived';
    if (this.nowNote.textContent !== text)
      this.nowNote.textContent = text;
  }
}

const pad = (n) => String(n).padStart(2, '0');
function timeOfDay(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
