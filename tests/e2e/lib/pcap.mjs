// Classic pcap files (microsecond, Ethernet) read and written in plain
// Node, and the few packets the tests build themselves: Ethernet + IPv4 +
// UDP/TCP carrying DNS, a TLS ClientHello or an HTTP request.
import { readFileSync, writeFileSync } from 'node:fs';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

// -> {linktype, nano, packets: [{ts, data}]}; ts in seconds (float).
export function readPcap(path) {
  const buf = readFileSync(path);
  let le = true;
  let magic = buf.readUInt32LE(0);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) {
    magic = buf.readUInt32BE(0);
    le = false;
  }
  if (magic !== MAGIC_US && magic !== MAGIC_NS)
    throw new Error(`${path}: not a classic pcap file`);
  const nano = magic === MAGIC_NS;
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0x0fffffff;
  const packets = [];
  for (let o = 24; o + 16 <= buf.length;) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const caplen = u32(o + 8);
    const len = u32(o + 12);
    if (o + 16 + caplen > buf.length)
      break;
    packets.push({ ts: sec + frac / (nano ? 1e9 : 1e6), sec, frac: nano ? Math.floor(frac / 1000) : frac, len, data: buf.subarray(o + 16, o + 16 + caplen) });
    o += 16 + caplen;
  }
  return { linktype, nano, packets };
}

// packets: [{sec, usec, data, len?}] in file order.
export function writePcap(path, packets, linktype = 1) {
  const parts = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(MAGIC_US, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linktype, 20);
  parts.push(head);
  for (const p of packets) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(p.sec >>> 0, 0);
    h.writeUInt32LE(p.usec >>> 0, 4);
    h.writeUInt32LE(p.data.length, 8);
    h.writeUInt32LE(p.len ?? p.data.length, 12);
    parts.push(h, p.data);
  }
  writeFileSync(path, Buffer.concat(parts));
}

// ---- building packets --------------------------------------------------------

function csum(buf) {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2)
    sum += buf.readUInt16BE(i);
  if (buf.length % 2)
    sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const ipBytes = (ip) => Buffer.from(ip.split('.').map(Number));

function mac(s) {
  return Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
}

export function ether(payload, { src = '02:00:00:00:00:01', dst = '02:00:00:00:00:02', type = 0x0800 } = {}) {
  const h = Buffer.alloc(14);
  mac(dst).copy(h, 0);
  mac(src).copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

let ipId = 1;
export function ipv4(src, dst, proto, payload, ttl = 64) {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(ipId++ & 0xffff, 4);
  h[8] = ttl;
  h[9] = proto;
  ipBytes(src).copy(h, 12);
  ipBytes(dst).copy(h, 16);
  h.writeUInt16BE(csum(h), 10);
  return Buffer.concat([h, payload]);
}

function pseudo(src, dst, proto, len) {
  const p = Buffer.alloc(12);
  ipBytes(src).copy(p, 0);
  ipBytes(dst).copy(p, 4);
  p[9] = proto;
  p.writeUInt16BE(len, 10);
  return p;
}

export function udp(src, dst, sport, dport, payload) {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  const seg = Buffer.concat([h, payload]);
  seg.writeUInt16BE(csum(Buffer.concat([pseudo(src, dst, 17, seg.length), seg])) || 0xffff, 6);
  return ether(ipv4(src, dst, 17, seg));
}

// flags: 0x18 PSH+ACK, 0x02 SYN, ...
export function tcp(src, dst, sport, dport, payload, { seq = 1000, ack = 1, flags = 0x18 } = {}) {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(64240, 14);
  const seg = Buffer.concat([h, payload]);
  seg.writeUInt16BE(csum(Buffer.concat([pseudo(src, dst, 6, seg.length), seg])), 16);
  return ether(ipv4(src, dst, 6, seg));
}

// A DNS name from raw labels (each label's bytes as given: '<', '/', '"' ...).
export function dnsName(labels) {
  const parts = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    if (b.length > 63)
      throw new Error(`label too long: ${l}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

// question: labels; answers: [{labels, type, data: Buffer}] (class IN, TTL 300).
export function dnsMessage({ id = 0x1234, response = false, question, qtype = 1, answers = [] }) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  const q = Buffer.concat([dnsName(question), Buffer.from([0, qtype, 0, 1])]);
  const rrs = answers.map((a) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(a.type, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(300, 4);
    fixed.writeUInt16BE(a.data.length, 8);
    return Buffer.concat([dnsName(a.labels), fixed, a.data]);
  });
  return Buffer.concat([h, q, ...rrs]);
}

// A TLS 1.2 ClientHello record carrying server_name = sni (raw bytes).
export function tlsClientHello(sni) {
  const name = Buffer.from(sni, 'latin1');
  const sniList = Buffer.alloc(5);
  sniList.writeUInt16BE(name.length + 3, 0);
  sniList[2] = 0;
  sniList.writeUInt16BE(name.length, 3);
  const sniExt = Buffer.concat([Buffer.from([0, 0]), u16(sniList.length + name.length), sniList, name]);
  const exts = Buffer.concat([u16(sniExt.length), sniExt]);
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), // version, random, session id
    u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), exts, // ciphers, compression
  ]);
  const hs = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}

function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n) {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

export function ipv4Data(ip) {
  return ipBytes(ip);
}
