// The side panels: protocol breakdown, sensors and losses, alerts, DNS,
// names <-> addresses and top talkers. The first two follow the live
// summary; the others poll their endpoint (they change slowly).
import { getJSON } from './api.js';
import { flowHref } from './table.js';
import {
  clear, countryLabel, dnsTypeName, el, formatBytes, formatCount, formatDateTime, formatTime, rcodeName, setText,
} from './dom.js';

// ---- Protocol breakdown (summary.protocols) --------------------------------

export class Breakdown {
  constructor(list) {
    this.list = list;
    this.items = new Map(); // name -> {li, bar, value}
  }

  update(protocols) {
    const sorted = [...(protocols || [])].sort((a, b) => b.packets - a.packets);
    const seen = new Set();
    sorted.forEach((p, i) => {
      const name = String(p.name);
      seen.add(name);
      let item = this.items.get(name);
      if (!item) {
        const bar = el('span', { className: 'bar-fill' });
        const value = el('span', { className: 'bar-value' });
        const li = el('li', { className: 'bar', attrs: { 'data-proto': name } },
          el('span', { className: 'bar-name', text: name }),
          el('span', { className: 'bar-track' }, bar),
          value);
        item = { li, bar, value };
        this.items.set(name, item);
      }
      const pct = Math.max(0, Math.min(100, Number(p.percent) || 0));
      // CSSOM width: allowed by the CSP, unlike a style="" attribute.
      item.bar.style.width = `${pct.toFixed(2)}%`;
      setText(item.value, `${pct.toFixed(1)} % · ${formatCount(p.packets)}`);
      if (this.list.children[i] !== item.li)
        this.list.insertBefore(item.li, this.list.children[i] || null);
    });
    for (const [name, item] of this.items) {
      if (!seen.has(name)) {
        item.li.remove();
        this.items.delete(name);
      }
    }
    if (!sorted.length && !this.list.children.length)
      this.list.append(el('li', { className: 'note', text: 'No packets yet.' }));
    else
      for (const li of [...this.list.querySelectorAll('li.note')])
        li.remove();
  }
}

// ---- Sensors and losses ---------------------------------------------------

// Everything is shown even at zero: "0 drops" is information too.
export class DropIndicators {
  constructor({ kernel, ipc, sampled, sampledServer, evicted, sensors }) {
    Object.assign(this, { kernel, ipc, sampled, sampledServer, evicted, sensorList: sensors });
    this.sampledTotal = 0;
    this.sensorItems = new Map();
  }

  addSkipped(n) {
    this.sampledTotal += n;
  }

  update(summary) {
    let kernel = 0;
    let missed = 0;
    for (const s of summary.sensors || []) {
      const pcap = (s.capd_stats && s.capd_stats.pcap) || {};
      kernel += (Number(pcap.drop) || 0) + (Number(pcap.ifdrop) || 0);
      missed += Number(s.missed) || 0;
      this.updateSensor(s, pcap);
    }
    setText(this.kernel, formatCount(kernel));
    this.kernel.classList.toggle('bad', kernel > 0);
    setText(this.ipc, formatCount(missed));
    this.ipc.classList.toggle('bad', missed > 0);
    setText(this.sampled, formatCount(this.sampledTotal));
    this.sampled.classList.toggle('warn', this.sampledTotal > 0);
    setText(this.sampledServer, formatCount(Number(summary.feed_rows_skipped) || 0));
    const evicted = (summary.ring && Number(summary.ring.evicted)) || 0;
    setText(this.evicted, formatCount(evicted));
  }

  updateSensor(s, pcap) {
    const name = String(s.name);
    let item = this.sensorItems.get(name);
    if (!item) {
      const text = el('span', { className: 'sensor-text' });
      const li = el('li', { className: 'sensor', attrs: { 'data-sensor': name } },
        el('span', { className: 'sensor-name', text: name }), text);
      item = { li, text };
      this.sensorItems.set(name, item);
      this.sensorList.append(li);
    }
    const drops = (Number(pcap.drop) || 0) + (Number(pcap.ifdrop) || 0);
    setText(item.text, `${formatCount(s.packets)} pkts · ${formatCount(drops)} dropped · `
      + `${formatCount(s.gaps)} gaps / ${formatCount(s.missed)} missed`);
    item.li.classList.toggle('bad', drops > 0 || Number(s.missed) > 0);
  }
}

// ---- Alerts -------------------------------------------------------------------

export class AlertsPanel {
  constructor({ list, count, rule }) {
    Object.assign(this, { list, count, rule });
    this.active = [];
  }

  // From each update: the active ones, so the badge is live between polls.
  setActive(alerts) {
    this.active = alerts || [];
    setText(this.count, this.active.length);
    this.count.classList.toggle('bad', this.active.length > 0);
  }

  async refresh() {
    const data = await getJSON('api/alerts');
    setText(this.rule, alertRules(data));
    clear(this.list);
    const alerts = (data.alerts || []).slice(0, 50);
    if (!alerts.length) {
      this.list.append(el('li', { className: 'note', text: 'No alerts.' }));
      return;
    }
    for (const a of alerts) {
      const li = el('li', { className: a.active ? 'alert active' : 'alert', attrs: { 'data-alert-id': a.id, 'data-kind': a.kind || 'flood' } });
      const who = el('div', { className: 'alert-who' },
        el('span', { className: 'alert-kind', text: ALERT_KINDS[a.kind]?.label || a.kind || 'flood' }),
        el('span', { className: 'alert-ip', text: a.ip }));
      if (a.peer)
        who.append(el('span', { className: 'alert-peer', text: `⇄ ${a.peer}` }));
      li.append(
        who,
        el('span', { className: 'alert-state', text: a.active ? 'ACTIVE' : 'cleared' }),
        el('span', { className: 'alert-meta', text: alertMeta(a) }),
      );
      if (a.flow_id !== undefined && a.sensor)
        li.append(el('a', { className: 'alert-flow', text: 'worst flow', attrs: { href: flowHref(a.sensor, a.flow_id), title: 'The flow with the highest ratio, in Conversations' } }));
      this.list.append(li);
    }
  }
}

// Each kind's name, and how its peak reads (webd's "unit").
const ALERT_KINDS = {
  flood: { label: 'flood', peak: (a) => `peak ${formatCount(a.peak)} packets/${a.window} s` },
  port_scan: { label: 'port scan', peak: (a) => `peak ${formatCount(a.peak)} ports/${a.window} s` },
  host_scan: { label: 'host scan', peak: (a) => `peak ${formatCount(a.peak)} hosts/${a.window} s` },
  syn_flood: { label: 'SYN flood', peak: (a) => `peak ${formatCount(a.peak)} half-open flows/${a.window} s (target)` },
  retransmissions: { label: 'retransmissions', peak: (a) => `peak ${a.peak} % retransmitted (over ${a.threshold} %)` },
};

function alertMeta(a) {
  const kind = ALERT_KINDS[a.kind] || ALERT_KINDS.flood;
  const count = a.flows !== undefined ? `${formatCount(a.flows)} flow${a.flows === 1 ? '' : 's'}` : `${formatCount(a.packets)} pkts`;
  return `${kind.peak(a)} · ${count} · since ${formatTime(a.started, false)}${a.cleared ? ` · cleared ${formatTime(a.cleared, false)}` : ''} · ${a.sensor}`;
}

// The thresholds webd runs with (flags or the configuration file), one sentence each; 0 turns a kind off.
function alertRules(data) {
  const l = data.limits || {};
  const off = (n) => !Number(n);
  const rules = [`An IP alerts when it sends more than ${data.threshold} packets in ${data.window} s`];
  if (l.port_scan)
    rules.push(off(l.port_scan.ports) ? 'port scans: off' : `opens flows to more than ${l.port_scan.ports} distinct ports in ${l.port_scan.window} s (port scan)`);
  if (l.host_scan)
    rules.push(off(l.host_scan.hosts) ? 'host scans: off' : `to more than ${l.host_scan.hosts} hosts in ${l.host_scan.window} s (host scan)`);
  if (l.syn_flood)
    rules.push(off(l.syn_flood.half_open_flows) ? 'SYN floods: off' : `or receives more than ${l.syn_flood.half_open_flows} half-open TCP flows in ${l.syn_flood.window} s (SYN flood)`);
  let text = `${rules.join('; ')}.`;
  if (l.retransmissions)
    text += off(l.retransmissions.percent) ? ' Retransmission alerts: off.'
      : ` A pair alerts when a TCP flow of ${l.retransmissions.min_packets} packets or more retransmits over ${l.retransmissions.percent} %.`;
  if (l.cooldown !== undefined)
    text += ` An alert clears when its figure falls back; the same one is not raised again for ${l.cooldown} s.`;
  return text;
}

// ---- DNS queries ----------------------------------------------------------------

export class DnsPanel {
  constructor({ list, filter }) {
    this.list = list;
    this.filter = filter;
    this.queries = [];
    filter.addEventListener('input', () => this.render());
  }

  async refresh() {
    const data = await getJSON('api/dns', { limit: 200 });
    this.queries = data.queries || [];
    this.render();
  }

  // Two lines per message: the name and type, then when, who and the answer.
  render() {
    const q = this.filter.value.trim().toLowerCase();
    clear(this.list);
    let shown = 0;
    for (const d of this.queries) {
      if (q && !`${d.qname} ${d.answers} ${d.client} ${d.server}`.toLowerCase().includes(q))
        continue;
      if (++shown > 100)
        break;
      let outcome = 'query';
      if (d.response)
        outcome = d.rcode ? rcodeName(d.rcode) : d.answers ? `→ ${d.answers}` : '→ (no answer)';
      const li = el('li', { className: `dns-item ${d.response ? 'dns-response' : 'dns-query'}`, attrs: { 'data-seq': d.seq } },
        el('span', { className: 'dns-name', text: d.qname || '(no question)', attrs: { title: d.qname } }),
        el('span', { className: 'dns-type', text: dnsTypeName(d.qtype) }),
        el('span', { className: 'dns-meta', text: `${formatTime(d.ts, false)} · ${d.response ? `${d.server} → ${d.client}` : `${d.client} → ${d.server}`}` }),
        el('span', { className: d.rcode ? 'dns-answer bad' : 'dns-answer', text: outcome, attrs: { title: d.answers } }));
      this.list.append(li);
    }
    if (!shown)
      this.list.append(el('li', { className: 'note', text: q ? 'No DNS messages match.' : 'No DNS queries seen.' }));
  }
}

// ---- Names <-> addresses ----------------------------------------------------------

export class NamesPanel {
  constructor({ body, filter }) {
    this.body = body;
    this.filter = filter;
    this.pairs = [];
    filter.addEventListener('input', () => this.render());
  }

  async refresh() {
    const data = await getJSON('api/names', { limit: 500 });
    const pairs = [];
    for (const host of data.names || [])
      for (const n of host.names || [])
        pairs.push({ name: n.name, ip: host.ip, source: n.source, lastSeen: n.last_seen, ttl: n.ttl_left, country: host.country });
    pairs.sort((a, b) => a.name.localeCompare(b.name) || a.ip.localeCompare(b.ip));
    this.pairs = pairs;
    this.render();
  }

  render() {
    const q = this.filter.value.trim().toLowerCase();
    clear(this.body);
    let shown = 0;
    let previous = null;
    for (const p of this.pairs) {
      if (q && !`${p.name} ${p.ip}`.toLowerCase().includes(q))
        continue;
      if (++shown > 300)
        break;
      // A name with several addresses: write the name once.
      const sameName = p.name === previous;
      previous = p.name;
      const source = p.source === 'dns' && typeof p.ttl === 'number' ? `dns (ttl ${p.ttl} s)` : p.source;
      this.body.append(el('tr', { className: sameName ? 'same-name' : '' },
        el('td', { className: 'wrap', text: sameName ? '' : p.name, attrs: { title: p.name } }),
        el('td', { text: p.country ? `${p.ip} ${countryLabel(p.country)}` : p.ip }),
        el('td', { text: source }),
        el('td', { text: formatTime(p.lastSeen, false), attrs: { title: formatDateTime(p.lastSeen) } })));
    }
    if (!shown)
      this.body.append(el('tr', {}, el('td', { className: 'note', text: 'No names learned yet (DNS answers, TLS SNI, HTTP Host).', attrs: { colspan: '4' } })));
  }
}

// ---- Top talkers --------------------------------------------------------------------

export class HostsPanel {
  constructor({ body }) {
    this.body = body;
  }

  async refresh() {
    const data = await getJSON('api/hosts', { limit: 50 });
    clear(this.body);
    const hosts = data.hosts || [];
    for (const h of hosts) {
      const asText = h.asn ? `AS${h.asn}${h.as_org ? ` ${h.as_org}` : ''}` : '—';
      const names = (h.names || []).map((n) => n.name).join(', ');
      const country = h.country ? countryLabel(h.country) : h.scope || '';
      const ip = el('td', { text: h.ip });
      if (h.alerting)
        ip.append(el('span', { className: 'badge bad', text: 'alert' }));
      const tr = el('tr', { className: h.alerting ? 'row-alert' : '' },
        ip,
        el('td', { text: country, attrs: { title: h.city ? h.city : null } }),
        el('td', { className: 'wrap', text: asText }),
        el('td', { className: 'wrap', text: names || '—', attrs: { title: names } }),
        el('td', { className: 'num', text: formatBytes(h.bytes_sent) }),
        el('td', { className: 'num', text: formatBytes(h.bytes_received) }),
        el('td', { className: 'num', text: formatCount(h.packets_sent + h.packets_received) }));
      this.body.append(tr);
    }
    if (!hosts.length)
      this.body.append(el('tr', {}, el('td', { className: 'note', text: 'No hosts yet.', attrs: { colspan: '7' } })));
  }
}
