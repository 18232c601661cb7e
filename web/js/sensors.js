// The Sensors panel (the fleet view's health) and the Packets view's notice
// for sensors that send flow reports only. Both read the `sensors` of
// /api/stats (or the feed's summary, the same JSON): each sensor's `health`
// (up, stats_age, kernel/interface drops, IPC gaps, flow evictions, clock
// skew) and `url` (--sensor-url). The panel shows when there is more than
// one sensor or any sensor is down. Everything goes in as text; a sensor's
// link is set through the href property, and only for http(s) URLs.
import { el, formatCount, setText } from './dom.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

// The sensor's dashboard address, if it is an absolute http(s) URL; else null.
export function safeUrl(text) {
  if (typeof text !== 'string' || !text)
    return null;
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function sensorLink(url, text) {
  const a = el('a', { text, attrs: { rel: 'noopener', target: '_blank' } });
  a.href = url; // the property, never markup
  return a;
}

const COLUMNS = [
  { id: 'name', label: 'Sensor' },
  { id: 'status', label: 'Status' },
  { id: 'stats_age', label: 'Last stats', num: true, title: 'Seconds since capd\'s last stats' },
  { id: 'kernel_drops', label: 'Kernel drops', num: true },
  { id: 'interface_drops', label: 'Interface drops', num: true },
  { id: 'ipc_packets', label: 'IPC gaps (packets)', num: true, title: 'Gaps / packets missed' },
  { id: 'ipc_flows', label: 'IPC gaps (flow reports)', num: true, title: 'Gaps / flow reports missed' },
  { id: 'flow_evictions', label: 'Flow evictions', num: true },
  { id: 'clock_skew_ms', label: 'Clock skew', num: true, title: 'The sensor\'s clock minus webd\'s' },
  { id: 'link', label: 'Dashboard' },
];

function cells(s) {
  const h = s.health && typeof s.health === 'object' ? s.health : {};
  const skew = typeof h.clock_skew_ms === 'number' ? `${h.clock_skew_ms.toFixed(1)} ms` : '—';
  return {
    name: String(s.name ?? ''),
    status: h.up ? 'up' : 'down',
    stats_age: typeof h.stats_age === 'number' ? `${h.stats_age.toFixed(1)} s` : 'never',
    kernel_drops: formatCount(num(h.kernel_drops)),
    interface_drops: formatCount(num(h.interface_drops)),
    ipc_packets: `${formatCount(num(h.gaps))} / ${formatCount(num(h.packets_missed))}`,
    ipc_flows: `${formatCount(num(h.flow_gaps))} / ${formatCount(num(h.flow_reports_missed))}`,
    flow_evictions: formatCount(num(h.flow_evictions)),
    clock_skew_ms: skew,
  };
}

export class SensorsPanel {
  constructor({ card, body }) {
    this.card = card;
    this.body = body;
    this.rows = new Map();
  }

  update(sensors) {
    if (!Array.isArray(sensors))
      return;
    const seen = new Set();
    for (const s of sensors) {
      const name = String(s.name ?? '');
      seen.add(name);
      this.updateRow(name, s);
    }
    for (const [name, row] of this.rows) {
      if (!seen.has(name)) {
        row.tr.remove();
        this.rows.delete(name);
      }
    }
    const anyDown = sensors.some((s) => !(s.health && s.health.up));
    this.card.hidden = !(sensors.length > 1 || anyDown);
  }

  updateRow(name, s) {
    let row = this.rows.get(name);
    if (!row) {
      const tds = {};
      const tr = el('tr', { attrs: { 'data-sensor': name } });
      for (const c of COLUMNS) {
        tds[c.id] = el('td', { attrs: { 'data-col': c.id } });
        if (c.num)
          tds[c.id].classList.add('num');
        tr.append(tds[c.id]);
      }
      row = { tr, tds, url: undefined };
      this.rows.set(name, row);
      this.body.append(tr);
    }
    const c = cells(s);
    for (const [id, text] of Object.entries(c))
      setText(row.tds[id], text);
    const up = Boolean(s.health && s.health.up);
    row.tr.classList.toggle('bad', !up);
    row.tds.status.classList.toggle('bad', !up);
    const url = safeUrl(s.url);
    if (url !== row.url) {
      row.url = url;
      row.tds.link.replaceChildren(url ? sensorLink(url, 'open') : '');
    }
  }
}

// "Packets stay on sensor NAME": a sensor that sent flow reports but no packets.
export class FlowsOnlyNotice {
  constructor(node) {
    this.node = node;
    this.key = null;
  }

  update(sensors) {
    if (!Array.isArray(sensors))
      return;
    const only = sensors.filter((s) => num(s.packets) === 0 && num(s.flow_reports) > 0);
    const key = JSON.stringify(only.map((s) => [String(s.name), safeUrl(s.url)]));
    if (key === this.key)
      return;
    this.key = key;
    this.node.hidden = only.length === 0;
    this.node.replaceChildren(...only.map((s) => {
      const name = String(s.name ?? '');
      const url = safeUrl(s.url);
      const p = el('p', { className: 'flows-only', attrs: { 'data-sensor': name } },
        `Packets stay on sensor ${name}: it sends flow reports only.`);
      if (url)
        p.append(' ', sensorLink(url, `Open ${name}'s dashboard`));
      return p;
    }));
  }
}
