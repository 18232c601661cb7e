// Our wrapper around Chart.js (the UMD build, window.Chart) for the
// packets-per-second line. It keeps one point per second of the clock the
// summary's rates follow: webd's arrival clock when the summary says so
// (summary.rates {clock, now, pps}: what arrives now, whatever the capture's
// timestamps), else the capture's clock (summary.now, summary.pps). History
// comes from /api/rates.csv (capture clock), kept only where it joins the
// live points (a live capture; not a replay faster than real time). Redraws
// at most once per animation frame. Zoom is the span selector, +/- buttons
// and drag-select. The chart's clock is labelled (clockLabel).
import { formatDateTime, formatTime } from './dom.js';

const SPANS = [60, 300, 900, 3600];
const MIN_SPAN = 15;
const MAX_SPAN = 3600;
const KEEP_SECONDS = 3600; // what rates.csv covers; older points are dropped

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export class PpsChart {
  // isShown: whether the chart's view is on screen (asked before each drawing,
  // without touching layout: offsetParent would force one every frame).
  constructor({ canvas, wrap, dragBox, spanButtons, zoomIn, zoomOut, zoomReset, rangeLabel, clockLabel, isShown }) {
    this.canvas = canvas;
    this.isShown = isShown || (() => true);
    this.clockLabel = clockLabel || null;
    this.clock = 'capture'; // of the live points
    this.pointsClock = null; // of the points held
    this.wrap = wrap;
    this.dragBox = dragBox;
    this.spanButtons = spanButtons;
    this.zoomReset = zoomReset;
    this.rangeLabel = rangeLabel;
    this.points = new Map(); // second -> packets in that second
    this.latest = 0; // newest second we have
    this.span = 300;
    this.fixedRange = null; // [from, to] after a drag-select; null follows the live edge
    this.frozen = false; // soft pause: data keeps coming, the drawing waits
    this.dirty = false;
    this.chart = null;

    for (const button of spanButtons)
      button.addEventListener('click', () => this.setSpan(Number(button.dataset.span)));
    zoomIn.addEventListener('click', () => this.zoom(0.5));
    zoomOut.addEventListener('click', () => this.zoom(2));
    zoomReset.addEventListener('click', () => this.backToLive());
    this.bindDrag();
    // Chart.js is built on the first drawing, not at load: a page opened on
    // another view does not pay for it (about 50 ms of the load's longest task).
    this.created = false;
    this.markSpan();
  }

  create() {
    if (!window.Chart) {
      // Without Chart.js the rest of the dashboard still works.
      this.rangeLabel.textContent = 'chart unavailable (Chart.js did not load)';
      return;
    }
    const Chart = window.Chart;
    this.chart = new Chart(this.canvas, {
      type: 'line',
      data: { datasets: [{ label: 'packets/s', data: [], borderWidth: 1.5, pointRadius: 0, tension: 0.2, fill: true }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            ticks: { maxTicksLimit: 8, callback: (v) => formatTime(v, false), maxRotation: 0 },
          },
          y: { beginAtZero: true, ticks: { maxTicksLimit: 5, precision: 0 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? formatDateTime(items[0].parsed.x) : ''),
              label: (item) => `${item.parsed.y} packets/s`,
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
    const line = cssVar('--accent', '#3b82f6');
    const grid = cssVar('--grid', 'rgba(128,128,128,0.2)');
    const text = cssVar('--muted', '#888');
    const ds = this.chart.data.datasets[0];
    ds.borderColor = line;
    ds.backgroundColor = cssVar('--accent-fill', 'rgba(59,130,246,0.15)');
    for (const axis of ['x', 'y']) {
      this.chart.options.scales[axis].grid = { color: grid };
      this.chart.options.scales[axis].ticks.color = text;
    }
    this.chart.update('none');
  }

  // History: "second,packets,bytes" lines of the last hour (capture clock).
  loadHistory(csv) {
    const lines = csv.split(/\r?\n/);
    const history = [];
    for (const line of lines.slice(1)) {
      const [second, packets] = line.split(',');
      const s = Number(second);
      if (Number.isFinite(s) && s > 0)
        history.push([s, Number(packets) || 0]);
    }
    // Live points on another clock came first: the history only if it joins them.
    if (this.pointsClock && this.pointsClock !== 'capture' && history.length
      && Math.abs(history[history.length - 1][0] - this.latest) > 5)
      return;
    for (const [s, packets] of history) {
      this.points.set(s, packets);
      if (s > this.latest)
        this.latest = s;
    }
    if (!this.pointsClock)
      this.pointsClock = 'capture';
    this.trim();
    this.schedule();
  }

  setClock(clock) {
    this.clock = clock;
    const label = this.clockLabel;
    if (!label)
      return;
    label.dataset.clock = clock;
    label.textContent = `${clock} clock`;
    label.title = clock === 'arrival'
      ? 'One point per second of webd\'s clock, as packets arrive (a replay shows what arrives now)'
      : 'One point per second of the capture\'s own timestamps (webd\'s summary)';
  }

  // One update's summary: pps counts the last whole second, now - 1.
  addSummary(summary) {
    const rates = summary && summary.rates && typeof summary.rates.now === 'number' ? summary.rates : null;
    if (!rates && (!summary || typeof summary.now !== 'number'))
      return;
    const clock = rates ? String(rates.clock || 'arrival') : 'capture';
    const second = (rates ? rates.now : summary.now) - 1;
    if (clock !== this.clock)
      this.setClock(clock);
    // The clock went back (a replay looped), or the points held are another
    // clock's that do not join these: start over.
    if (this.latest && (second < this.latest - 5 || (this.pointsClock !== clock && second > this.latest + 5))) {
      this.points.clear();
      this.latest = 0;
    }
    this.pointsClock = clock;
    this.points.set(second, Number(rates ? rates.pps : summary.pps) || 0);
    if (second > this.latest)
      this.latest = second;
    this.trim();
    this.schedule();
  }

  trim() {
    if (this.points.size <= KEEP_SECONDS + 60)
      return;
    for (const s of this.points.keys())
      if (s < this.latest - KEEP_SECONDS)
        this.points.delete(s);
  }

  range() {
    if (this.fixedRange)
      return this.fixedRange;
    return [this.latest - this.span, this.latest];
  }

  // The points of the visible range, in order, quiet seconds as zeros
  // (rates.csv has them; the live feed only says what it saw).
  visiblePoints() {
    const [from, to] = this.range();
    const out = [];
    for (let s = Math.ceil(from); s <= to; s++)
      if (this.points.has(s) || s <= this.latest)
        out.push({ x: s, y: this.points.get(s) || 0 });
    return out;
  }

  setFrozen(frozen) {
    this.frozen = frozen;
    if (!frozen)
      this.schedule();
  }

  schedule() {
    if (this.dirty)
      return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      if (!this.frozen)
        this.draw();
    });
  }

  draw() {
    // Not on screen (another view): drawn when it comes back (schedule()).
    if (!this.isShown())
      return;
    if (!this.created) {
      this.created = true;
      this.create();
    }
    const [from, to] = this.range();
    if (this.chart && this.latest) {
      this.chart.data.datasets[0].data = this.visiblePoints();
      this.chart.options.scales.x.min = from;
      this.chart.options.scales.x.max = to;
      this.chart.update('none');
    }
    const label = this.fixedRange
      ? `${formatTime(from, false)} – ${formatTime(to, false)} (zoomed)`
      : `last ${this.spanText(this.span)}`;
    this.rangeLabel.textContent = label;
  }

  spanText(seconds) {
    if (seconds >= 3600)
      return `${(seconds / 3600).toFixed(seconds % 3600 ? 1 : 0)} h`;
    if (seconds >= 60)
      return `${(seconds / 60).toFixed(seconds % 60 ? 1 : 0)} min`;
    return `${Math.round(seconds)} s`;
  }

  setSpan(seconds) {
    this.span = Math.max(MIN_SPAN, Math.min(MAX_SPAN, seconds));
    this.fixedRange = null;
    this.markSpan();
    this.schedule();
  }

  zoom(factor) {
    if (this.fixedRange) {
      // Zoom a fixed range about its middle.
      const [from, to] = this.fixedRange;
      const mid = (from + to) / 2;
      const half = Math.max(MIN_SPAN, Math.min(MAX_SPAN, (to - from) * factor)) / 2;
      this.fixedRange = [mid - half, Math.min(this.latest, mid + half)];
      this.markSpan();
      this.schedule();
      return;
    }
    this.setSpan(this.span * factor);
  }

  backToLive() {
    this.fixedRange = null;
    this.markSpan();
    this.schedule();
  }

  markSpan() {
    for (const button of this.spanButtons) {
      const on = !this.fixedRange && Number(button.dataset.span) === this.span;
      button.setAttribute('aria-pressed', String(on));
    }
    this.zoomReset.hidden = !this.fixedRange;
  }

  // Drag across the plot to zoom into that time range.
  bindDrag() {
    let startX = null;
    const xOf = (ev) => ev.clientX - this.canvas.getBoundingClientRect().left;
    this.canvas.addEventListener('pointerdown', (ev) => {
      if (!this.chart || ev.button !== 0)
        return;
      startX = xOf(ev);
      this.canvas.setPointerCapture(ev.pointerId);
    });
    this.canvas.addEventListener('pointermove', (ev) => {
      if (startX === null)
        return;
      const x = xOf(ev);
      // CSSOM assignments are allowed under the CSP (only style attributes are not).
      this.dragBox.style.left = `${Math.min(startX, x)}px`;
      this.dragBox.style.width = `${Math.abs(x - startX)}px`;
      this.dragBox.hidden = Math.abs(x - startX) < 3;
    });
    const finish = (ev) => {
      if (startX === null)
        return;
      const x = xOf(ev);
      const a = Math.min(startX, x);
      const b = Math.max(startX, x);
      startX = null;
      this.dragBox.hidden = true;
      if (b - a < 8)
        return; // a click, not a drag
      const scale = this.chart.scales.x;
      const from = scale.getValueForPixel(a);
      const to = scale.getValueForPixel(b);
      if (to - from >= 2) {
        this.fixedRange = [from, to];
        this.markSpan();
        this.schedule();
      }
    };
    this.canvas.addEventListener('pointerup', finish);
    this.canvas.addEventListener('pointercancel', () => {
      startX = null;
      this.dragBox.hidden = true;
    });
  }

  // The visible points as CSV, for the "Chart CSV" download.
  toCSV() {
    const lines = ['second,time_utc,packets_per_second'];
    for (const p of this.visiblePoints())
      lines.push(`${p.x},${new Date(p.x * 1000).toISOString()},${p.y}`);
    return `${lines.join('\r\n')}\r\n`;
  }
}

export { SPANS };
