// The live feed: Server-Sent Events (default) or WebSocket, with polling of
// /api/packets + /api/stats as the fallback when neither stays up. Whatever
// the transport, the listener gets the same thing: {rows, skipped, summary}.
//
// Flows ride along when a view asks (setFlowQuery): the query string of
// /api/flows goes to webd as ?flows= (SSE, and the WebSocket's URL) or as a
// {"flows":QUERY} message on an open WebSocket, and webd sends "flows"
// messages ({type, query, total, flows}) at most ten times a second, only
// when something changed. Until the first one arrives (a webd without flow
// updates, or while polling), /api/flows is polled every second instead.
import { apiUrl, getJSON, wsUrl } from './api.js';

const POLL_MS = 1000;
const POLL_ROWS = 500;
const FAILURES_BEFORE_POLLING = 3; // consecutive errors without a message
const RETRY_PUSH_MS = 30000; // while polling, try the push transport again this often
const FLOWS_POLL_MS = 1000;
const FLOWS_PUSH_WAIT_MS = 2500; // a query's first "flows" message comes on webd's next tick

export class Feed {
  // onUpdate({rows, skipped, summary}); onStatus(state, text);
  // onFlows({query, total, flows, ...}): a page of flows for the current flow query.
  constructor({ transport = 'sse', onUpdate, onStatus, onFlows = () => {}, lastSeq = () => 0 }) {
    this.transport = transport;
    this.onUpdate = onUpdate;
    this.onStatus = onStatus;
    this.onFlows = onFlows;
    this.lastSeq = lastSeq;
    this.flowQuery = ''; // what the view asks for; '' for no flows
    this.pushFlows = false; // the push transport has delivered flows for it
    this.flowsTimer = null; // polling /api/flows
    this.flowsWait = null; // waiting for the push transport's first flows message
    this.source = null;
    this.socket = null;
    this.failures = 0;
    this.pollTimer = null;
    this.retryTimer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connectPush();
    this.awaitPushFlows(); // a flow query set before the start
  }

  stop() {
    this.stopped = true;
    this.closePush();
    this.stopPolling();
    this.stopFlowsPolling();
    clearTimeout(this.flowsWait);
    clearTimeout(this.retryTimer);
  }

  setTransport(transport) {
    if (transport === this.transport)
      return;
    this.transport = transport;
    this.stop();
    this.failures = 0;
    this.start();
  }

  status(state, text) {
    this.onStatus(state, text);
  }

  deliver(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      console.warn('feed: an update that is not JSON was ignored');
      return;
    }
    if (msg && msg.type === 'flows') {
      this.flowsArrived(msg);
      return;
    }
    if (msg && msg.type === 'error') {
      console.debug('feed: webd refused a message:', msg.error);
      return;
    }
    if (!msg || msg.type !== 'update')
      return;
    this.onUpdate({
      rows: Array.isArray(msg.rows) ? msg.rows : [],
      skipped: Number(msg.skipped) || 0,
      summary: msg.summary || null,
    });
  }

  connectPush() {
    if (this.stopped)
      return;
    this.closePush();
    if (this.transport === 'ws' && 'WebSocket' in window)
      this.connectWebSocket();
    else if ('EventSource' in window)
      this.connectEventSource();
    else
      this.startPolling('no EventSource in this browser');
  }

  closePush() {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
      this.socket = null;
    }
  }

  // A push transport failed; after a few failures in a row, poll instead.
  pushFailed(why) {
    this.failures++;
    if (this.failures >= FAILURES_BEFORE_POLLING) {
      this.closePush();
      this.startPolling(why);
      return false;
    }
    return true;
  }

  pushWorks(label) {
    this.failures = 0;
    this.stopPolling();
    this.status('connected', `${label} connected`);
  }

  connectEventSource() {
    const source = new EventSource(apiUrl('api/stream', { flows: this.flowQuery }));
    this.source = source;
    this.status('connecting', 'SSE connecting…');
    source.onopen = () => this.pushWorks('SSE');
    source.addEventListener('update', (ev) => {
      if (this.failures)
        this.pushWorks('SSE');
      this.deliver(ev.data);
    });
    source.addEventListener('flows', (ev) => this.deliver(ev.data));
    source.onerror = () => {
      if (this.source !== source)
        return;
      // EventSource retries by itself (webd says retry: 2000) unless the
      // answer was not an event stream at all (503: too many clients, 401).
      const closed = source.readyState === EventSource.CLOSED;
      if (this.pushFailed(closed ? 'SSE refused' : 'SSE keeps failing')) {
        this.status('reconnecting', 'SSE reconnecting…');
        if (closed) {
          source.close();
          this.retryTimer = setTimeout(() => this.connectPush(), 2000);
        }
      }
    };
  }

  connectWebSocket() {
    const socket = new WebSocket(wsUrl('ws', { flows: this.flowQuery }));
    this.socket = socket;
    this.status('connecting', 'WebSocket connecting…');
    socket.onopen = () => this.pushWorks('WebSocket');
    socket.onmessage = (ev) => this.deliver(typeof ev.data === 'string' ? ev.data : '');
    socket.onclose = () => {
      if (this.socket !== socket)
        return;
      this.socket = null;
      if (this.pushFailed('WebSocket keeps failing')) {
        this.status('reconnecting', 'WebSocket reconnecting…');
        this.retryTimer = setTimeout(() => this.connectPush(), 2000);
      }
    };
  }

  // ---- Flows -----------------------------------------------------------------------------

  // The view's flow query ('' stops flows). An open WebSocket is told with a
  // message; an EventSource cannot change its URL, so it connects again.
  setFlowQuery(query) {
    const q = query || '';
    if (q === this.flowQuery)
      return;
    this.flowQuery = q;
    this.pushFlows = false;
    this.stopFlowsPolling();
    clearTimeout(this.flowsWait);
    if (this.stopped)
      return;
    if (this.socket && this.socket.readyState === WebSocket.OPEN)
      this.socket.send(JSON.stringify({ flows: q }));
    else if (this.source)
      this.connectPush();
    this.awaitPushFlows();
  }

  // Polls /api/flows unless the push transport delivers flows soon.
  awaitPushFlows() {
    clearTimeout(this.flowsWait);
    if (!this.flowQuery)
      return;
    if (this.pollTimer) {
      this.startFlowsPolling(); // no push transport at all
      return;
    }
    this.flowsWait = setTimeout(() => {
      if (!this.pushFlows)
        this.startFlowsPolling();
    }, FLOWS_PUSH_WAIT_MS);
  }

  flowsArrived(msg) {
    if (msg.query !== this.flowQuery)
      return; // for a query since replaced
    if (!this.pushFlows) {
      this.pushFlows = true;
      clearTimeout(this.flowsWait);
      this.stopFlowsPolling();
    }
    this.onFlows(msg);
  }

  startFlowsPolling() {
    if (this.flowsTimer || !this.flowQuery || this.stopped)
      return;
    const tick = async () => {
      const query = this.flowQuery;
      if (!document.hidden && query) {
        try {
          const data = await getJSON(`api/flows?${query}`);
          if (this.flowsTimer && query === this.flowQuery)
            this.onFlows({ ...data, type: 'flows', query });
        } catch (err) {
          console.debug('flows poll failed:', err.message);
        }
      }
      if (this.flowsTimer)
        this.flowsTimer = setTimeout(tick, FLOWS_POLL_MS);
    };
    this.flowsTimer = setTimeout(tick, 0);
  }

  stopFlowsPolling() {
    if (this.flowsTimer) {
      clearTimeout(this.flowsTimer);
      this.flowsTimer = null;
    }
  }

  startPolling(why) {
    if (this.stopped)
      return;
    this.scheduleRetry();
    if (this.pollTimer)
      return;
    this.status('polling', `Polling (${why})`);
    const tick = async () => {
      try {
        await this.pollOnce();
        if (!this.pollTimer)
          return; // a push transport took over meanwhile
        this.status('polling', `Polling (${why})`);
      } catch (err) {
        this.status('offline', `Server unreachable: ${err.message}`);
      }
      if (this.pollTimer)
        this.pollTimer = setTimeout(tick, POLL_MS);
    };
    this.pollTimer = setTimeout(tick, 0);
    // No push transport: flows are polled too, until one delivers them again.
    this.pushFlows = false;
    this.startFlowsPolling();
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      // Give the push transport another chance; polling goes on until it opens.
      this.failures = FAILURES_BEFORE_POLLING - 1;
      this.connectPush();
    }, RETRY_PUSH_MS);
  }

  stopPolling() {
    if (this.pollTimer) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
  }

  async pollOnce() {
    const after = this.lastSeq();
    const [packets, summary] = await Promise.all([
      getJSON('api/packets', { limit: POLL_ROWS, after_seq: after }),
      getJSON('api/stats'),
    ]);
    const rows = packets.packets || [];
    // Polling gets the newest POLL_ROWS: whatever came between is skipped, as the feed's sampling would.
    const skipped = after > 0 ? Math.max(0, (packets.newest_seq || 0) - after - rows.length) : 0;
    this.onUpdate({ rows, skipped, summary });
  }
}
