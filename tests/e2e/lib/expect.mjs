// What the dashboard should show for a packet, worked out from capd's
// --json output (the oracle), the geolocation database (mmdblookup) and
// the address ranges that are never looked up, independently of web/.
import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import { GEO } from './backend.mjs';

// ---- address scope ------------------------------------------------------------

function v4(ip) {
  const p = ip.split('.').map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

const V4_NOT_PUBLIC = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
].map(([net, bits]) => [v4(net), bits]);

// True for an address a geolocation database may be asked about.
export function isPublic(ip) {
  if (!ip || !isIP(ip))
    return false; // a MAC address (ARP), or nothing
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    if (l === '::' || l === '::1' || l.startsWith('fe8') || l.startsWith('fe9') || l.startsWith('fea') || l.startsWith('feb')
      || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('ff') || l.startsWith('2001:db8:') || l.startsWith('::ffff:'))
      return false;
    return true;
  }
  const a = v4(ip);
  return !V4_NOT_PUBLIC.some(([net, bits]) => (a >>> (32 - bits)) === (net >>> (32 - bits)));
}

const countryCache = new Map();
// The country code the database gives for a public address ('' if none).
export function countryOf(ip) {
  if (!GEO || !isPublic(ip))
    return '';
  if (countryCache.has(ip))
    return countryCache.get(ip);
  let cc = '';
  for (const path of [['country_code'], ['country', 'iso_code']]) {
    try {
      const out = execFileSync('mmdblookup', ['--file', GEO, '--ip', ip, ...path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const m = /"([A-Za-z]{2})"/.exec(out);
      if (m) {
        cc = m[1].toUpperCase();
        break;
      }
    } catch {
      /* not found under this path */
    }
  }
  countryCache.set(ip, cc);
  return cc;
}

const flag = (cc) => String.fromCodePoint(...[...cc].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
const countryLabel = (cc) => (cc ? `${flag(cc)} ${cc}` : '');

// ---- the table's cells ----------------------------------------------------------

function utcTime(tsText) {
  const [secText, fracText = ''] = tsText.split('.');
  const d = new Date(Number(secText) * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${(fracText + '000').slice(0, 3)}`;
}

function address(ip, port) {
  if (!ip)
    return '';
  if (port === undefined)
    return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// Passive DNS as the README describes it: DNS answers (A/AAAA: name ->
// address), TLS SNI and HTTP Host (-> the destination).
export class NameBook {
  constructor() {
    this.names = new Map();
  }

  learn(o) {
    if (o.dns && o.dns.response)
      for (const a of o.dns.answers || [])
        if ((a.type === 1 || a.type === 28) && a.data)
          this.names.set(a.data, a.name);
    if (o.sni && o.dst)
      this.names.set(o.dst, o.sni);
    if (o.http && o.http.host && o.dst)
      this.names.set(o.dst, o.http.host);
  }

  get(ip) {
    return (ip && this.names.get(ip)) || '';
  }
}

// The expected cells of every packet of a capd --json list, in order.
// webd adds the names it knows for the addresses when it serves a row
// (/api/packets), so a page opened after the replay shows the names learned
// from the whole capture on every row (afterReplay); the live feed carries
// those known when the packet arrived.
export function expectedRows(packets, { geo = Boolean(GEO), afterReplay = true } = {}) {
  const book = new NameBook();
  if (afterReplay)
    packets.forEach((o) => book.learn(o));
  return packets.map((o) => {
    if (!afterReplay)
      book.learn(o);
    const sc = geo ? countryOf(o.src) : '';
    const dc = geo ? countryOf(o.dst) : '';
    let country = '';
    if (sc && dc)
      country = sc === dc ? countryLabel(sc) : `${countryLabel(sc)} → ${countryLabel(dc)}`;
    else if (sc)
      country = `${countryLabel(sc)} →`;
    else if (dc)
      country = `→ ${countryLabel(dc)}`;
    const name = (o.dns && o.dns.qname) || o.sni || (o.http && o.http.host) || book.get(o.dst) || book.get(o.src);
    return {
      seq: String(o.seq),
      time: utcTime(o._ts),
      proto: o.proto || o.l3 || '',
      src: address(o.src || (o.eth && o.eth.src), o.sport),
      dst: address(o.dst || (o.eth && o.eth.dst), o.dport),
      country,
      name,
      len: String(o.len),
      info: o.malformed ? `${o.info || ''} [malformed: ${o.malformed}]` : o.info || '',
    };
  });
}

// Field-by-field differences between two rows of cells.
export function cellDiffs(label, got, want) {
  const out = [];
  for (const k of Object.keys(want))
    if (got[k] !== want[k])
      out.push(`${label} ${k}: shown ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`);
  return out;
}

// The proto categories of the toggles (web/README.md).
const CATEGORY = { TCP: 'TCP', UDP: 'UDP', ICMP: 'ICMP', ICMPV6: 'ICMP', DNS: 'DNS', MDNS: 'DNS', LLMNR: 'DNS', TLS: 'TLS', HTTP: 'HTTP', ARP: 'ARP' };
export const categoryOf = (proto) => CATEGORY[String(proto || '').toUpperCase()] || 'other';
export const CATEGORIES = ['TCP', 'UDP', 'ICMP', 'DNS', 'TLS', 'HTTP', 'ARP', 'other'];
