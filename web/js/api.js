// Talking to wlite-webd. Every URL goes through apiUrl() so the access
// token of the page's own URL (?token=...) travels with API, export, SSE and
// WebSocket requests alike: EventSource and WebSocket cannot set headers.

const pageParams = new URLSearchParams(window.location.search);
export const token = pageParams.get('token') || '';

// A URL relative to the page (so the dashboard also works under a proxy prefix).
export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '')
      url.searchParams.set(key, String(value));
  }
  if (token)
    url.searchParams.set('token', token);
  return url;
}

// The same, as ws:// or wss:// for the WebSocket feed.
export function wsUrl(path, params = {}) {
  const url = apiUrl(path, params);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function parseAnswer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body && body.error) || `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status, body);
  }
  return body;
}

export async function getJSON(path, params = {}, { signal } = {}) {
  const response = await fetch(apiUrl(path, params), { cache: 'no-store', signal });
  return parseAnswer(response);
}

export async function getText(path, params = {}) {
  const response = await fetch(apiUrl(path, params), { cache: 'no-store' });
  if (!response.ok)
    throw new ApiError(`${response.status} ${response.statusText}`, response.status, null);
  return response.text();
}

export async function postJSON(path, body) {
  const response = await fetch(apiUrl(path), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  return parseAnswer(response);
}

// Runs fn every `ms` while the page is visible; returns a stop function.
// A hidden tab does not need fresh side panels, and this spares the server.
export function poll(fn, ms) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped)
      return;
    if (!document.hidden) {
      try {
        await fn();
      } catch (err) {
        console.debug('poll failed:', err.message);
      }
    }
    if (!stopped)
      timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
