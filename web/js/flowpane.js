// The flow pane: one flow from /api/flow/SENSOR/ID: what it is (ends,
// countries, AS, names, protocol, application, times), its TCP analysis per
// direction, a sparkline of its rate between capd's reports (the points),
// its packets still in webd's ring (a click opens the packet detail, the
// same pane as the Live view's), and "PCAP of this flow" / "PCAP of this
// host" downloads. Refreshed every 2 s while open and the flow is active
// (or not yet known: capd reports a flow when it ends and at every active
// timeout, so a packet's flow may come a while after the packet).
import { ApiError, apiUrl, getJSON } from './api.js';
import { countryLabel, el, formatBits, formatCount, formatDateTime, formatTime, setText } from './dom.js';
import {
  asText, bytesText, durationText, endpointText, flowPath, protoName, rateText, rttText, stateText, tcpFlagsText,
} from './flowfmt.js';

const REFRESH_MS = 2000;
const PACKETS_SHOWN = 500; // rows drawn of the (at most 1,000) the API gives

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

// Date and time of day to the millisecond (the page's time zone).
const fullTime = (ts) => (typeof ts === 'number' ? `${formatDateTime(ts).slice(0, 11)}${formatTime(ts)}` : '');

// An IP address, not the MAC of a non-IP flow (six colon-separated pairs are never IPv6).
const isIp = (a) => typeof a === 'string' && /[.:]/.test(a) && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(a);

// The rate between consecutive reports: [{t, bps}], from the flow's first packet on.
export function ratePoints(flow, points) {
  const out = [];
  let prevT = Number(flow.first);
  let prevBytes = 0;
  for (const p of Array.isArray(points) ? points : []) {
    const t = Number(p[0]);
    const bytes = Number(p[1]);
    if (!(t > prevT) || !(bytes >= prevBytes))
      continue;
    out.push({ t, bps: ((bytes - prevBytes) * 8) / (t - prevT) });
    prevT = t;
    prevBytes = bytes;
  }
  return out;
}

export class FlowPane extends EventTarget {
  constructor({ els, detail, isShown }) {
    super();
    this.els = els;
    this.detail = detail; // a DetailPane for the flow's packets
    this.isShown = isShown || (() => true); // whether the pane's view is on screen
    this.key = null;
    this.sensor = null;
    this.id = null;
    this.flow = null;
    this.timer = null;
    this.request = null;
    this.packetsSig = '';
    els.close.addEventListener('click', () => this.close());
    els.pane.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !this.detail.isOpen()) {
        ev.preventDefault();
        this.close();
      }
    });
    els.packetsBody.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-seq]');
      if (tr)
        this.openPacket(tr);
    });
    els.packetsBody.addEventListener('keydown', (ev) => {
      const tr = ev.target.closest('tr[data-seq]');
      if (tr && (ev.key === 'Enter' || ev.key === ' ')) {
        ev.preventDefault();
        this.openPacket(tr);
      }
    });
  }

  isOpen() {
    return !this.els.pane.hidden;
  }

  open(sensor, id, flow = null) {
    const key = `${sensor}/${id}`;
    if (key !== this.key) {
      this.detail.close();
      this.packetsSig = '';
      this.els.packetsBody.replaceChildren();
      this.flow = null;
    }
    const wasOpen = this.isOpen();
    this.key = key;
    this.sensor = sensor;
    this.id = String(id);
    this.els.pane.hidden = false;
    // The pane sits below the table: bring it on screen (as little scrolling as will do).
    if (!wasOpen || key !== this.els.pane.dataset.key)
      requestAnimationFrame(() => this.els.pane.scrollIntoView({ block: 'nearest' }));
    this.els.pane.dataset.key = key;
    this.setLinks(flow);
    if (flow)
      this.renderFlow(flow);
    else if (!this.flow)
      this.status('loading', `flow ${key}: loading…`);
    this.refresh();
  }

  close() {
    if (!this.isOpen())
      return;
    clearTimeout(this.timer);
    if (this.request)
      this.request.abort();
    this.detail.close();
    this.els.pane.hidden = true;
    this.key = null;
    this.flow = null;
    this.dispatchEvent(new Event('close'));
  }

  status(state, text) {
    this.els.pane.dataset.state = state;
    setText(this.els.status, text);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    clearTimeout(this.timer);
    if (!this.isOpen())
      return;
    if (document.hidden || !this.isShown()) {
      this.schedule(); // looked at again when shown
      return;
    }
    if (this.request)
      this.request.abort();
    const request = new AbortController();
    this.request = request;
    const key = this.key;
    let data;
    try {
      data = await getJSON(flowPath(this.sensor, this.id), {}, { signal: request.signal });
    } catch (err) {
      if (err.name === 'AbortError' || key !== this.key)
        return;
      if (err instanceof ApiError && err.status === 404)
        this.status('unknown', `flow ${key} is not in webd's flow table (yet): capd reports a flow when it ends and at every active timeout (60 s by default); an old flow may have been evicted. Looking again every 2 s.`);
      else
        this.status('error', `flow ${key}: ${err.message}`);
      this.schedule();
      return;
    } finally {
      if (this.request === request)
        this.request = null;
    }
    if (key !== this.key)
      return;
    this.renderFlow(data.flow || {});
    this.renderSpark(data.flow || {}, data.points);
    this.renderPackets(data);
    this.status('loaded', '');
    if (!data.flow || data.flow.active)
      this.schedule();
  }

  // The feed's page of flows: the open flow's figures, if it is in it.
  flowUpdated(flows) {
    if (!this.isOpen() || !this.flow)
      return;
    const f = flows.find((x) => `${x.sensor}/${x.id}` === this.key);
    if (f)
      this.renderFlow(f);
  }

  setLinks(flow) {
    const e = this.els;
    e.pcap.href = apiUrl(`${flowPath(this.sensor, this.id)}/export.pcap`).href;
    e.pcap.download = `wlite-flow-${this.id}.pcap`;
    for (const [side, link] of [['a', e.hostA], ['b', e.hostB]]) {
      const addr = flow && flow[side];
      link.hidden = !isIp(addr);
      if (isIp(addr)) {
        link.href = apiUrl('api/export.pcap', { host: addr }).href;
        link.download = `wlite-host-${addr.replace(/[^0-9A-Za-z.]/g, '_')}.pcap`;
        setText(link, `PCAP of host ${addr}`);
        link.title = `Every packet in webd's ring to or from ${addr}`;
      }
    }
  }

  // ---- What the flow is --------------------------------------------------------------------

  renderFlow(f) {
    this.flow = f;
    this.setLinks(f);
    const e = this.els;
    e.pane.dataset.active = String(Boolean(f.active));
    setText(e.title, `${endpointText(f.a, f.a_port)} ⇄ ${endpointText(f.b, f.b_port)}`);
    setText(e.summary, [protoName(f), f.app, f.name, stateText(f)].filter(Boolean).join(' · '));
    const side = (s) => [
      endpointText(f[s], f[`${s}_port`]),
      countryLabel(f[`${s}_country`]),
      f[`${s}_scope`],
      asText(f[`${s}_asn`]),
      f[`${s}_name`],
    ].filter(Boolean).join(' · ');
    const facts = [
      ['sensor', 'Sensor · flow id', `${f.sensor} · ${f.id}`],
      ['a', 'A (sent the first packet)', side('a')],
      ['b', 'B', side('b')],
      ['proto', 'Protocol · application', [protoName(f), f.app].filter(Boolean).join(' · ')],
      ['name', 'Name (SNI, Host or DNS question)', f.name || ''],
      ['ja4', 'Client fingerprint (JA4 of its ClientHello)', f.ja4 || ''],
      ['ja3s', 'Server fingerprint (JA3S of its ServerHello)', f.ja3s || ''],
      ['a_sent', 'A → B', `${formatCount(f.a_packets || 0)} packets, ${bytesText(f.a_bytes || 0)} (${formatCount(f.a_bytes || 0)} bytes)`],
      ['b_sent', 'B → A', `${formatCount(f.b_packets || 0)} packets, ${bytesText(f.b_bytes || 0)} (${formatCount(f.b_bytes || 0)} bytes)`],
      ['rate', 'Rate over its life', rateText(f.rate_bps)],
      ['first', 'First packet (capture clock)', fullTime(f.first)],
      ['last', 'Last packet (capture clock)', fullTime(f.last)],
      ['duration', 'Duration', durationText(f.duration)],
      ['state', 'State', stateText(f)],
      ['heard', 'Last report (arrival clock)', typeof f.heard === 'number' ? formatTime(f.heard) : ''],
    ];
    if (Array.isArray(f.vlan) && f.vlan.length)
      facts.push(['vlan', 'VLAN', f.vlan.join(' / ')]);
    if (f.outer)
      facts.push(['outer', 'Tunnel (outer ends)', `${f.outer.a || '?'} ⇄ ${f.outer.b || '?'}`]);
    if (f.icmp)
      facts.push(['icmp', 'ICMP', `type ${f.icmp.type}, code ${f.icmp.code}${f.icmp.id !== undefined ? `, id ${f.icmp.id}` : ''}`]);
    this.renderFacts(e.facts, facts);
    this.renderTcp(f.tcp);
  }

  renderFacts(dl, facts) {
    const rows = facts.filter(([, , v]) => v !== '' && v !== undefined && v !== null);
    const keys = rows.map(([k]) => k).join(',');
    if (dl.dataset.keys !== keys) {
      dl.replaceChildren(...rows.map(([k, label]) => el('div', { attrs: { 'data-key': k } }, el('dt', { text: label }), el('dd'))));
      dl.dataset.keys = keys;
    }
    rows.forEach(([, , value], i) => setText(dl.children[i].lastChild, value));
  }

  renderTcp(tcp) {
    const e = this.els;
    e.tcpBox.hidden = !tcp;
    if (!tcp)
      return;
    setText(e.tcpState, `${tcp.state || '?'} · handshake RTT ${rttText({ tcp }) || 'not seen'} · resets ${formatCount(tcp.resets || 0)}`);
    const rows = [
      ['flags', 'TCP flags sent', tcpFlagsText(tcp.a_flags), tcpFlagsText(tcp.b_flags)],
      ['retransmissions', 'Retransmissions', tcp.a_retransmissions, tcp.b_retransmissions],
      ['out_of_order', 'Out of order', tcp.a_out_of_order, tcp.b_out_of_order],
      ['dup_acks', 'Duplicate ACKs', tcp.a_dup_acks, tcp.b_dup_acks],
      ['zero_windows', 'Zero windows', tcp.a_zero_windows, tcp.b_zero_windows],
    ];
    if (e.tcpBody.children.length !== rows.length)
      e.tcpBody.replaceChildren(...rows.map(([k, label]) => el('tr', { attrs: { 'data-metric': k } },
        el('th', { text: label, attrs: { scope: 'row' } }), el('td', { className: 'num' }), el('td', { className: 'num' }))));
    rows.forEach(([, , a, b], i) => {
      const tr = e.tcpBody.children[i];
      const text = (v) => (typeof v === 'number' ? formatCount(v) : String(v ?? ''));
      setText(tr.children[1], text(a));
      setText(tr.children[2], text(b));
      tr.classList.toggle('warn', i > 0 && ((Number(a) || 0) + (Number(b) || 0)) > 0);
    });
  }

  // ---- The sparkline -----------------------------------------------------------------------

  renderSpark(f, points) {
    const canvas = this.els.spark;
    const series = ratePoints(f, points);
    canvas.dataset.points = JSON.stringify(series.map((p) => [p.t, Math.round(p.bps)]));
    const peak = series.reduce((m, p) => Math.max(m, p.bps), 0);
    const note = series.length
      ? `${series.length} report${series.length === 1 ? '' : 's'} · peak ${formatBits(peak)} · last ${formatBits(series[series.length - 1].bps)} (between reports, capture clock)`
      : 'no rate yet: one report with no time between its first and last packet';
    setText(this.els.sparkNote, note);
    canvas.setAttribute('aria-label', `Rate between capd's reports: ${series.map((p) => formatBits(p.bps)).join(', ') || 'none'}`);
    this.drawSpark(canvas, f, series, peak);
  }

  drawSpark(canvas, f, series, peak) {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 220;
    const h = canvas.clientHeight || 44;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    const ctx = canvas.getContext('2d');
    if (!ctx)
      return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = cssVar('--grid', 'rgba(128,128,128,0.3)');
    ctx.beginPath();
    ctx.moveTo(0, h - 0.5);
    ctx.lineTo(w, h - 0.5);
    ctx.stroke();
    if (!series.length || !(peak > 0))
      return;
    const t0 = Number(f.first);
    const t1 = series[series.length - 1].t;
    const x = (t) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * (w - 2) + 1 : w - 1);
    const y = (v) => h - 2 - (v / peak) * (h - 6);
    // A step line: each rate holds from the report before to its own.
    ctx.beginPath();
    let prev = t0;
    ctx.moveTo(x(prev), h - 1);
    for (const p of series) {
      ctx.lineTo(x(prev), y(p.bps));
      ctx.lineTo(x(p.t), y(p.bps));
      prev = p.t;
    }
    ctx.lineTo(x(prev), h - 1);
    ctx.closePath();
    ctx.fillStyle = cssVar('--accent-fill', 'rgba(59,130,246,0.15)');
    ctx.fill();
    ctx.strokeStyle = cssVar('--accent', '#3b82f6');
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }

  // ---- Its packets --------------------------------------------------------------------------

  renderPackets(data) {
    const packets = Array.isArray(data.packets) ? data.packets : [];
    const e = this.els;
    const sig = `${packets.length}:${packets.length ? packets[0].seq : 0}:${packets.length ? packets[packets.length - 1].seq : 0}:${data.packets_more}`;
    const parts = [`${formatCount(packets.length + (Number(data.packets_more) || 0))} in webd's ring`];
    if (!data.packets_complete)
      parts.push('its first packets have left the ring');
    if (packets.length > PACKETS_SHOWN)
      parts.push(`the first ${PACKETS_SHOWN} shown`);
    else if (data.packets_more)
      parts.push(`the first ${formatCount(packets.length)} listed`);
    setText(e.packetsNote, `${parts.join(' · ')} · capture clock`);
    e.packetsTable.dataset.count = String(packets.length);
    e.packetsTable.dataset.complete = String(Boolean(data.packets_complete));
    if (sig === this.packetsSig)
      return;
    this.packetsSig = sig;
    const rows = packets.slice(0, PACKETS_SHOWN).map((p) => {
      const tr = el('tr', { attrs: { 'data-seq': p.seq, tabindex: '0' } },
        el('td', { className: 'c-seq', text: p.seq }),
        el('td', { className: 'c-time', text: formatTime(p.ts) }),
        el('td', { className: 'c-src', text: endpointText(p.src || (p.eth && p.eth.src), p.sport) }),
        el('td', { className: 'c-dst', text: endpointText(p.dst || (p.eth && p.eth.dst), p.dport) }),
        el('td', { className: 'c-proto', text: p.proto || p.l3 || '' }),
        el('td', { className: 'c-len num', text: p.len }),
        el('td', { className: 'c-info', text: p.info || '', attrs: { title: p.info || '' } }));
      return tr;
    });
    e.packetsBody.replaceChildren(...rows);
    e.packetsEmpty.hidden = rows.length > 0;
  }

  openPacket(tr) {
    for (const row of this.els.packetsBody.querySelectorAll('tr.selected'))
      row.classList.remove('selected');
    tr.classList.add('selected');
    this.detail.open(Number(tr.dataset.seq));
  }
}
