// How flows and endpoints read on the page: their key, their ends, their
// protocol, state and figures. Text only; shared by the Conversations and
// Endpoints views and the flow pane.
import { countryLabel, formatBits, formatBytes, formatCount } from './dom.js';

const IPPROTO = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };

// A flow is known by its sensor and its id (unique per capd run).
export const flowKey = (f) => `${f.sensor}/${f.id}`;

// "SENSOR/ID" -> {sensor, id} (the id is the part after the last "/"), or null.
export function parseFlowKey(text) {
  const at = typeof text === 'string' ? text.lastIndexOf('/') : -1;
  if (at <= 0 || !/^\d{1,16}$/.test(text.slice(at + 1)))
    return null;
  return { sensor: text.slice(0, at), id: text.slice(at + 1) };
}

// The API path of a flow (sensor names are the operator's, but quoted all the same).
export const flowPath = (sensor, id) => `api/flow/${encodeURIComponent(sensor)}/${encodeURIComponent(id)}`;

export function protoName(f) {
  if (typeof f.ipproto === 'number')
    return IPPROTO[f.ipproto] || `IP ${f.ipproto}`;
  return (f.l3 || '').toUpperCase();
}

export function endpointText(addr, port) {
  if (!addr)
    return '';
  if (port === undefined || port === null)
    return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function countriesText(f) {
  const a = countryLabel(f.a_country);
  const b = countryLabel(f.b_country);
  if (a && b)
    return a === b ? a : `${a} → ${b}`;
  if (a)
    return `${a} →`;
  if (b)
    return `→ ${b}`;
  return '';
}

// The flow's own name (SNI, Host, DNS question), else what passive DNS knows of its ends.
export function flowName(f) {
  if (f.name)
    return { text: f.name, from: 'flow' };
  if (f.b_name)
    return { text: f.b_name, from: 'b' };
  if (f.a_name)
    return { text: f.a_name, from: 'a' };
  return { text: '', from: '' };
}

export function stateText(f) {
  const parts = [];
  if (f.tcp && f.tcp.state)
    parts.push(f.tcp.state);
  parts.push(f.active ? 'active' : `ended: ${f.end || '?'}`);
  return parts.join(' · ');
}

export function durationText(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s) || s < 0)
    return '';
  if (s < 1)
    return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  if (s < 60)
    return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600)
    return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const rttText = (f) => (f.tcp && typeof f.tcp.rtt_ms === 'number' ? `${f.tcp.rtt_ms.toFixed(3)} ms` : '');

export function retransmissions(f) {
  if (!f.tcp)
    return null;
  return (Number(f.tcp.a_retransmissions) || 0) + (Number(f.tcp.b_retransmissions) || 0);
}

export const bytesText = (n) => (typeof n === 'number' ? formatBytes(n) : '');
export const rateText = (bitsPerSecond) => (typeof bitsPerSecond === 'number' ? formatBits(bitsPerSecond) : '');
export const countText = (n) => (typeof n === 'number' ? formatCount(n) : '');

const TCP_FLAGS = [[0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR'], [0x100, 'AE']];
export function tcpFlagsText(bits) {
  const n = Number(bits) || 0;
  const names = TCP_FLAGS.filter(([bit]) => n & bit).map(([, name]) => name);
  return names.length ? names.join(' ') : 'none';
}

// An endpoint's AS, as webd gives it (a number; no name in the API).
export const asText = (asn) => (asn ? `AS${asn}` : '');
