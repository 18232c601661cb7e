// The captures the tests replay: corpus files as they are, a "mix" made of
// corpus packets re-timed to a steady stream (every protocol toggle has
// rows in it), a flood, and the hostile names.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CAPD, CORPUS, WORK } from './backend.mjs';
import { dnsMessage, ether, ipv4, ipv4Data, readPcap, tcp, tlsClientHello, udp, writePcap } from './pcap.mjs';

export const corpus = (name) => join(CORPUS, name);

// capd's own decoding of a file: the oracle for what the dashboard shows.
// Each object keeps its line's text too (`_ts`: ts exactly as printed).
export function capdJson(path) {
  const out = execFileSync(CAPD, ['--read', path, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return out.split('\n').filter(Boolean).map((line) => {
    const o = JSON.parse(line);
    o._ts = /"ts":([0-9.]+)/.exec(line)[1];
    return o;
  });
}

// The mix: corpus packets of all the toggles' categories (TCP, UDP, ICMP,
// DNS/MDNS, TLS, HTTP, ARP, and "other": SSH, FTP, NTP), public and private
// addresses, interleaved and re-timed from T0 so that each second carries 10, 16, 22 or 16
// packets in turn (about 20 s a loop): the chart has something to draw.
export const MIX_FILES = ['zeek-var-services-std-ports.pcap', 'zeek-tls__certificate-with-sct.pcap', 'icmp-rfc8335.pcap', 'zeek-web.pcap'];
export const MIX_T0 = 1700000000;

export function buildMix() {
  const path = join(WORK, 'mix.pcap');
  if (existsSync(path))
    return path;
  // Interleaved, each file's packets in their own order, spread over the
  // whole loop: every category shows up within the first seconds.
  const tagged = [];
  for (const f of MIX_FILES) {
    const p = readPcap(corpus(f));
    if (p.linktype !== 1)
      throw new Error(`${f}: link type ${p.linktype}, the mix needs Ethernet`);
    p.packets.forEach((pkt, i) => tagged.push({ key: (i + 0.5) / p.packets.length, pkt }));
  }
  const packets = tagged.sort((a, b) => a.key - b.key).map((x) => x.pkt);
  const pattern = [10, 16, 22, 16];
  const out = [];
  let second = 0;
  let i = 0;
  while (i < packets.length) {
    const n = pattern[second % pattern.length];
    for (let k = 0; k < n && i < packets.length; k++, i++) {
      const usec = Math.floor((k * 1e6) / n);
      out.push({ sec: MIX_T0 + second, usec, data: packets[i].data, len: packets[i].len });
    }
    second++;
  }
  writePcap(path, out);
  return path;
}

// A flood: FLOOD_IP sends 320 UDP packets in 3.2 s (more than 200 in 10 s),
// gets 5 replies, amid a trickle from a quiet host, 20 s in all.
export const FLOOD_IP = '198.51.100.77';
export const QUIET_IP = '10.20.30.40';

export function buildFlood() {
  const path = join(WORK, 'flood.pcap');
  const t0 = 1710000000;
  const out = [];
  for (let s = 0; s < 20; s++)
    out.push({ t: t0 + s + 0.5, data: udp(QUIET_IP, '10.20.30.1', 40000 + s, 9999, Buffer.from(`quiet ${s}`)) });
  for (let k = 0; k < 320; k++)
    out.push({ t: t0 + 2 + k * 0.01, data: udp(FLOOD_IP, '10.20.30.1', 50000, 7777, Buffer.from(`flood ${k}`)) });
  // Replies to the flooder while it floods: their source is not flooding.
  for (let k = 0; k < 5; k++)
    out.push({ t: t0 + 4.5 + k * 0.1 + 0.005, data: udp('10.20.30.1', FLOOD_IP, 7777, 50000, Buffer.from(`reply ${k}`)) });
  out.sort((a, b) => a.t - b.t);
  writePcap(path, out.map((p) => ({ sec: Math.floor(p.t), usec: Math.round((p.t % 1) * 1e6) % 1000000, data: p.data })));
  return path;
}

// ---- flow alerts ----------------------------------------------------------------
// SCANNER_IP opens TCP flows (SYNs) to 150 ports of one host in 3 s; the
// lossy pair runs one TCP flow of 73 packets, 10 of them retransmissions
// (13.7 %); a clean flow beside it retransmits nothing.
export const SCANNER_IP = '10.40.0.9';
export const LOSSY_PAIR = ['10.40.1.1', '10.40.1.2'];

export function buildFlowAlerts() {
  const path = join(WORK, 'flow-alerts.pcap');
  const t0 = 1712000000;
  const out = [];
  for (let k = 0; k < 150; k++)
    out.push({ t: t0 + 1 + k * 0.02, data: tcp(SCANNER_IP, '10.40.0.1', 40000 + k, 1000 + k, Buffer.alloc(0), { seq: 7, ack: 0, flags: 0x02 }) });
  const flow = (a, b, sport, start, repeats) => {
    out.push({ t: start, data: tcp(a, b, sport, 443, Buffer.alloc(0), { seq: 100, ack: 0, flags: 0x02 }) });
    out.push({ t: start + 0.01, data: tcp(b, a, 443, sport, Buffer.alloc(0), { seq: 500, ack: 101, flags: 0x12 }) });
    out.push({ t: start + 0.02, data: tcp(a, b, sport, 443, Buffer.alloc(0), { seq: 101, ack: 501, flags: 0x10 }) });
    let t = start + 0.03;
    for (let k = 0; k < 50; k++) {
      const seg = (kk) => tcp(a, b, sport, 443, Buffer.alloc(100, 0x61 + (kk % 26)), { seq: 101 + 100 * kk, ack: 501, flags: 0x18 });
      out.push({ t: (t += 0.01), data: seg(k) });
      if (k % 5 === 4 && repeats) // the segment again: a retransmission
        out.push({ t: (t += 0.01), data: seg(k) });
      if (k % 5 === 4)
        out.push({ t: (t += 0.01), data: tcp(b, a, 443, sport, Buffer.alloc(0), { seq: 501, ack: 101 + 100 * (k + 1), flags: 0x10 }) });
    }
  };
  flow(LOSSY_PAIR[0], LOSSY_PAIR[1], 51000, t0 + 2, true);
  flow('10.40.2.1', '10.40.2.2', 52000, t0 + 2.5, false);
  out.sort((a, b) => a.t - b.t);
  writePcap(path, out.map((p) => ({ sec: Math.floor(p.t), usec: Math.round((p.t % 1) * 1e6) % 1000000, data: p.data })));
  return path;
}

// ---- hostile names -------------------------------------------------------------
// Each payload assigns a global the page's guard watches (xss1..xss6) or
// calls alert(); DNS labels carry no spaces (they would show as \032) and
// no dots (label separators), so their payloads use '/' instead.
export const HOSTILE = {
  dnsQuery: '<img/src=x/onerror=xss1=1>',
  dnsAnswerName: '<script>xss2=1</script>',
  dnsCname: '"><svg/onload=xss3=1>',
  dnsJs: 'javascript:alert(1)',
  dnsScriptAlert: '<script>alert(1)</script>',
  txt: '<img src=x onerror=alert(1)>',
  sni: '<img src=x onerror=xss4=1>',
  httpPath: '/<script>xss5=1</script>',
  httpHost: '"><svg onload=xss6=1>',
  httpHost2: 'javascript:alert(1)',
};
export const HOSTILE_IPS = { client: '10.66.0.2', resolver: '10.66.0.53', web: '10.66.0.80', tls: '10.66.0.43', answer: '192.0.2.10' };

export function buildHostile() {
  const path = join(WORK, 'hostile.pcap');
  const t0 = 1720000000;
  writePcap(path, hostileFrames().map((data, i) => ({ sec: t0 + Math.floor(i / 4), usec: (i % 4) * 200000, data })));
  return path;
}

function hostileFrames() {
  const { client, resolver, web, tls, answer } = HOSTILE_IPS;
  const H = HOSTILE;
  const txtData = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s, 'latin1')]), Buffer.from(s, 'latin1')]);
  const nameData = (labels) => {
    const parts = [];
    for (const l of labels)
      parts.push(Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1'));
    parts.push(Buffer.from([0]));
    return Buffer.concat(parts);
  };
  const frames = [
    udp(client, resolver, 33001, 53, dnsMessage({ id: 1, question: [H.dnsQuery, 'evil', 'test'] })),
    udp(resolver, client, 53, 33001, dnsMessage({
      id: 1, response: true, question: [H.dnsQuery, 'evil', 'test'],
      answers: [
        { labels: [H.dnsQuery, 'evil', 'test'], type: 5, data: nameData([H.dnsCname, 'evil', 'test']) },
        { labels: [H.dnsAnswerName, 'evil', 'test'], type: 1, data: ipv4Data(answer) },
      ],
    })),
    udp(client, resolver, 33002, 53, dnsMessage({ id: 2, question: [H.dnsJs, 'evil', 'test'], qtype: 16 })),
    udp(resolver, client, 53, 33002, dnsMessage({
      id: 2, response: true, question: [H.dnsJs, 'evil', 'test'], qtype: 16,
      answers: [{ labels: [H.dnsJs, 'evil', 'test'], type: 16, data: txtData(H.txt) }],
    })),
    udp(client, resolver, 33003, 53, dnsMessage({ id: 3, question: [H.dnsScriptAlert, 'evil', 'test'] })),
    udp(resolver, client, 53, 33003, dnsMessage({
      id: 3, response: true, question: [H.dnsScriptAlert, 'evil', 'test'],
      answers: [{ labels: [H.dnsScriptAlert, 'evil', 'test'], type: 1, data: ipv4Data('192.0.2.11') }],
    })),
    tcp(client, tls, 44001, 443, tlsClientHello(H.sni)),
    tcp(client, web, 44002, 80, Buffer.from(`GET ${H.httpPath} HTTP/1.1\r\nHost: ${H.httpHost}\r\nUser-Agent: e2e\r\n\r\n`, 'latin1')),
    tcp(client, '10.66.0.81', 44003, 80, Buffer.from(`GET /?q=${H.dnsScriptAlert} HTTP/1.1\r\nHost: ${H.httpHost2}\r\n\r\n`, 'latin1')),
  ];
  return frames;
}

// For the History view: zeek-wikipedia.pcap (DNS, MDNS, LLMNR, HTTP, TCP,
// ARP, LLC, NBNS; IPv4 and IPv6; 2011) followed by the hostile packets,
// re-timed to start on the second 2 s after its last packet's (keeping their
// own spacing): the whole capture spans about 11 s of one capture clock.
export const HISTORY_BASE = 'zeek-wikipedia.pcap';

export function buildHistoryMix() {
  const path = join(WORK, 'history.pcap');
  if (existsSync(path))
    return path;
  const base = readPcap(corpus(HISTORY_BASE));
  const hostile = readPcap(buildHostile());
  if (base.linktype !== 1 || hostile.linktype !== 1)
    throw new Error('the history capture needs Ethernet on both parts');
  const toUs = (p) => BigInt(p.sec) * 1000000n + BigInt(p.frac);
  const out = base.packets.map((p) => ({ us: toUs(p), data: p.data, len: p.len }));
  const start = (out[out.length - 1].us / 1000000n + 2n) * 1000000n;
  const h0 = toUs(hostile.packets[0]);
  for (const p of hostile.packets)
    out.push({ us: start + toUs(p) - h0, data: p.data, len: p.len });
  writePcap(path, out.map((p) => ({ sec: Number(p.us / 1000000n), usec: Number(p.us % 1000000n), data: p.data, len: p.len })));
  return path;
}

// ---- flows ----------------------------------------------------------------------
// capd's own flows of a file (--flows, flow schema v1): the oracle for the
// Conversations and Endpoints views. Their ids (1, 2, ... here) differ from
// a live capd's; the tests match a flow by its ends instead.
export function capdFlows(path) {
  const out = execFileSync(CAPD, ['--read', path, '--flows'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

// A TCP connection, packet by packet: handshake (its RTT), data from the
// client in `segments` (bytes each, acknowledged by the server), segments
// sent again (`retransmit`: their indexes, resent after the next one), and
// an end: 'fin' (both FINs) or 'rst'. Packets are spread over `span` s.
function tcpConversation(c, s, sport, dport, { t0, rttMs, segments, retransmit = [], end = 'fin', span = 1, payload = null }) {
  const out = [];
  let t = t0;
  const rtt = rttMs / 1000;
  const push = (dt, frame) => {
    t += dt;
    out.push({ t, data: frame });
  };
  let cseq = 1000;
  let sseq = 50000;
  push(0, tcp(c, s, sport, dport, Buffer.alloc(0), { seq: cseq, ack: 0, flags: 0x02 }));
  push(rtt / 2, tcp(s, c, dport, sport, Buffer.alloc(0), { seq: sseq, ack: cseq + 1, flags: 0x12 }));
  cseq++;
  sseq++;
  push(rtt / 2, tcp(c, s, sport, dport, Buffer.alloc(0), { seq: cseq, ack: sseq, flags: 0x10 }));
  const step = span / Math.max(1, segments.length * 2);
  const sent = [];
  segments.forEach((n, i) => {
    const data = payload ? payload(i, n) : Buffer.alloc(n, 0x61 + (i % 26));
    sent.push({ seq: cseq, data });
    push(step, tcp(c, s, sport, dport, data, { seq: cseq, ack: sseq, flags: 0x18 }));
    cseq += data.length;
    if (retransmit.includes(i - 1)) {
      const again = sent[i - 1];
      push(step / 4, tcp(c, s, sport, dport, again.data, { seq: again.seq, ack: sseq, flags: 0x18 }));
    }
    push(step, tcp(s, c, dport, sport, Buffer.alloc(0), { seq: sseq, ack: cseq, flags: 0x10 }));
  });
  if (end === 'rst') {
    push(step, tcp(c, s, sport, dport, Buffer.alloc(0), { seq: cseq, ack: sseq, flags: 0x14 }));
    return out;
  }
  push(step, tcp(c, s, sport, dport, Buffer.alloc(0), { seq: cseq, ack: sseq, flags: 0x11 }));
  push(rtt / 2, tcp(s, c, dport, sport, Buffer.alloc(0), { seq: sseq, ack: cseq + 1, flags: 0x11 }));
  push(rtt / 2, tcp(c, s, sport, dport, Buffer.alloc(0), { seq: cseq + 1, ack: sseq + 1, flags: 0x10 }));
  return out;
}

function icmpEcho(src, dst, type, id, seq) {
  const h = Buffer.alloc(8 + 32, 0x42);
  h[0] = type;
  h[1] = 0;
  h.writeUInt16BE(0, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(seq, 6);
  let sum = 0;
  for (let i = 0; i < h.length; i += 2)
    sum += h.readUInt16BE(i);
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 2);
  return ether(ipv4(src, dst, 1, h));
}

// For the Conversations and Endpoints views: flows of every kind in about
// 9 s of capture time. zeek-web.pcap (HTTP between public addresses in two
// countries, a reset connection), the hostile names (DNS questions, SNI,
// HTTP Host with payloads), and crafted ones: TCP with handshake RTTs of 5,
// 20 and 80 ms, one with two retransmissions, one ending in a reset, a UDP
// stream and an ICMP echo; their sizes, lengths and durations all differ,
// so that every sort orders them differently.
export const FLOWS_T0 = 1730000000;
export const FLOW_HOSTS = { bulk: '10.1.0.1', web: '10.1.0.2', slow: '10.1.0.3', ssh: '10.1.0.5', sshClient: '10.1.0.4' };

export function buildFlows() {
  const path = join(WORK, 'flows.pcap');
  if (existsSync(path))
    return path;
  const t0 = FLOWS_T0;
  const packets = [];
  const web = readPcap(corpus('zeek-web.pcap'));
  const w0 = web.packets[0].ts;
  for (const p of web.packets)
    packets.push({ t: t0 + 0.5 + (p.ts - w0), data: p.data, len: p.len });
  hostileFrames().forEach((data, i) => packets.push({ t: t0 + 1 + i * 0.25, data }));
  const H = FLOW_HOSTS;
  const convs = [
    tcpConversation(H.bulk, H.web, 40001, 443, { t0: t0 + 0.2, rttMs: 20, segments: Array(20).fill(1000), retransmit: [4, 11], span: 2 }),
    tcpConversation(H.slow, H.web, 40002, 80, { t0: t0 + 0.4, rttMs: 80, segments: [300, 300, 300, 300, 300], span: 7 }),
    tcpConversation(H.sshClient, H.ssh, 40003, 22, { t0: t0 + 1.1, rttMs: 5, segments: Array(50).fill(100), end: 'rst', span: 3 }),
  ];
  for (const c of convs)
    packets.push(...c);
  for (let i = 0; i < 30; i++)
    packets.push({ t: t0 + 2 + i * 0.1, data: udp('10.1.0.6', '10.1.0.7', 5000, 6000, Buffer.alloc(200, 0x55)) });
  for (let i = 0; i < 3; i++) {
    packets.push({ t: t0 + 3 + i, data: icmpEcho('10.1.0.8', '10.1.0.9', 8, 77, i) });
    packets.push({ t: t0 + 3.003 + i, data: icmpEcho('10.1.0.9', '10.1.0.8', 0, 77, i) });
  }
  packets.sort((a, b) => a.t - b.t);
  writePcap(path, packets.map((p) => {
    const us = Math.round(p.t * 1e6);
    return { sec: Math.floor(us / 1e6), usec: us % 1e6, data: p.data, len: p.len };
  }));
  return path;
}
