// Runs one real Node.js SSE client against a server and prints, one JSON
// object per line, everything the client hands to the application.
//
//   node client.mjs '{"client":"eventsource","url":"http://127.0.0.1:3000/sse",
//                     "types":["note"],"until":"done","reconnect":true,"timeoutMs":10000}'
//
// The point is to observe each library as its users see it, so nothing is
// filtered or fixed up here: if a library calls the application with an empty
// event, that empty event is printed. See README.md for the spec fields.
import { writeSync } from 'node:fs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const method = (spec.method ?? 'GET').toUpperCase();
const userHeaders = spec.headers ?? {};
// fetch() refuses a body on GET, so only send one for other methods.
const body = method === 'GET' ? undefined : (spec.body ?? undefined);
const until = spec.until ?? null;
const reconnect = Boolean(spec.reconnect);
// eventsource only delivers named events to listeners registered per name.
const types = [...new Set(['message', ...(spec.types ?? []), ...(until ? [until] : [])])];

// Synchronous writes: every line is on stdout the moment it happens, and
// nothing is lost when we call process.exit() right after.
function out(obj) {
  writeSync(1, JSON.stringify(obj) + '\n');
}
function errorMessage(err) {
  // undici's "fetch failed" hides the useful part (ECONNREFUSED...) in .cause.
  if (err instanceof Error) {
    return err.cause instanceof Error ? `${err.message}: ${errorMessage(err.cause)}` : err.message;
  }
  return String(err);
}
function error(message, extra = {}) {
  out({ kind: 'error', message, ...extra });
}
// `end` is printed only for a successful run (exit 0); a failed run prints an
// error line and exits 1.
function succeed() {
  out({ kind: 'end' });
  process.exit(0);
}
function fail(message) {
  error(message);
  process.exit(1);
}
// Called for every event a client hands to the application. The libraries
// disagree on "no id" (undefined, '' or null): all of them print as null.
function event(type, id, data) {
  out({ kind: 'event', type, id: id === undefined || id === '' ? null : id, data });
  if (until !== null && type === until) succeed();
}
// The stream ended cleanly and the run does not reconnect.
function streamEnded() {
  if (until === null) succeed();
  fail(`stream ended before an event of type "${until}"`);
}

// This timer also keeps the process alive: a run only ever ends by succeed()
// or fail(), never by Node running out of work.
setTimeout(() => fail(`timeout after ${spec.timeoutMs ?? 30000} ms`), spec.timeoutMs ?? 30000);

const isEventStream = (res) => (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
// The response's Content-Encoding (fetch decodes it): a test that forces a
// codec with an Accept-Encoding header checks that it was the one used.
function encoding(res) {
  out({ kind: 'encoding', name: res.headers.get('content-encoding') });
  return res;
}

// --- eventsource (WHATWG EventSource for Node) ------------------------------
async function runEventSource() {
  const { EventSource } = await import('eventsource');
  const es = new EventSource(spec.url, {
    // The package's documented way to add headers is a fetch wrapper; the same
    // wrapper is the only way to make it POST. init.headers carries its own
    // Accept and Last-Event-ID, which we keep.
    fetch: (input, init) =>
      fetch(input, { ...init, method, body, headers: { ...init.headers, ...userHeaders } }).then(encoding),
  });
  es.addEventListener('open', () => out({ kind: 'open' }));
  for (const type of types) {
    // lastEventId is what the app sees as the event's id.
    es.addEventListener(type, (ev) => event(ev.type, ev.lastEventId, ev.data));
  }
  es.addEventListener('error', (ev) => {
    // The package gives a message only when something failed; a clean end of
    // the stream fires `error` with no message and schedules a reconnect.
    const cleanEnd = ev.message === undefined;
    if (cleanEnd && !reconnect) {
      es.close(); // stop the reconnect it has just scheduled
      streamEnded();
    }
    error(cleanEnd ? 'stream ended by server' : ev.message, ev.code === undefined ? {} : { code: ev.code });
    if (es.readyState === es.CLOSED) {
      // Non-200, 204 or wrong content type: EventSource gives up for good.
      fail('eventsource closed the connection and will not reconnect');
    }
    if (!reconnect) fail('connection failed');
    // Otherwise EventSource reconnects by itself, sending Last-Event-ID.
  });
}

// --- @microsoft/fetch-event-source -----------------------------------------
async function runFetchEventSource() {
  // fetchEventSource uses window.setTimeout/clearTimeout/fetch and calls
  // document.removeEventListener when it finishes, even with openWhenHidden.
  globalThis.window ??= globalThis;
  globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
  // Node resolves the package to its CommonJS build (the ESM build uses
  // extensionless imports Node cannot load); this is the real library code.
  const { fetchEventSource } = await import('@microsoft/fetch-event-source');

  // The error classes and the onopen/onclose/onerror pattern are the ones the
  // package README recommends.
  class RetriableError extends Error {}
  class FatalError extends Error {}

  await fetchEventSource(spec.url, {
    method,
    headers: userHeaders,
    body,
    openWhenHidden: true,
    async onopen(res) {
      encoding(res);
      if (res.status === 200 && isEventStream(res)) {
        out({ kind: 'open' });
        return;
      }
      const what = `HTTP ${res.status} (content-type ${res.headers.get('content-type')})`;
      // README: 4xx other than 429 are not worth retrying; the rest are.
      if (res.status >= 400 && res.status < 500 && res.status !== 429) throw new FatalError(what);
      throw new RetriableError(what);
    },
    onmessage(msg) {
      // Every call is reported, including ones with empty data and no event
      // name: those are the extra events this matrix exists to catch.
      if (msg.retry !== undefined) out({ kind: 'retry', ms: msg.retry });
      event(msg.event || 'message', msg.id, msg.data);
    },
    onclose() {
      if (!reconnect) streamEnded();
      // README: throwing here is how to make it retry after a clean end; it
      // then sends the last id it saw as the `last-event-id` header.
      throw new RetriableError('stream ended by server');
    },
    onerror(err) {
      error(errorMessage(err));
      if (err instanceof FatalError || !reconnect) throw err; // stops it
      // Returning nothing retries after the server's `retry` (default 1000 ms).
    },
  }).catch((err) => fail(`fetch-event-source stopped: ${errorMessage(err)}`));
  // fetchEventSource resolves only after onclose returns, which we never let
  // happen without exiting first.
}

// --- eventsource-parser, driven by fetch ------------------------------------
async function runEventSourceParser() {
  const { createParser } = await import('eventsource-parser');
  // A bare parser does no connection handling: this loop does what its
  // users write by hand (and what EventSource does): keep the last id, send
  // it back as Last-Event-ID, wait `retry` between connections.
  let lastEventId = null;
  let retryMs = 1000;
  for (;;) {
    let cleanEnd = false;
    try {
      const headers = { Accept: 'text/event-stream', ...userHeaders };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const res = encoding(await fetch(spec.url, { method, headers, body, cache: 'no-store' }));
      if (res.status !== 200 || !isEventStream(res)) {
        // Like EventSource: a non-200 answer is final, not retried.
        fail(`HTTP ${res.status} (content-type ${res.headers.get('content-type')})`);
      }
      out({ kind: 'open' });
      // A fresh parser per connection: a half-received block is dropped.
      const parser = createParser({
        onEvent(ev) {
          if (ev.id !== undefined) lastEventId = ev.id;
          event(ev.event ?? 'message', ev.id, ev.data);
        },
        onRetry(ms) {
          retryMs = ms;
          out({ kind: 'retry', ms });
        },
        onError(err) {
          error(`parse error: ${err.message}`); // e.g. unknown field; not fatal
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
      parser.feed(decoder.decode());
      cleanEnd = true;
    } catch (err) {
      error(errorMessage(err));
    }
    if (!reconnect) {
      if (cleanEnd) streamEnded();
      fail('connection failed');
    }
    if (cleanEnd) error('stream ended by server'); // reported like the other two clients do
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

const runners = {
  eventsource: runEventSource,
  'fetch-event-source': runFetchEventSource,
  'eventsource-parser': runEventSourceParser,
};
if (!runners[spec.client]) fail(`unknown client ${JSON.stringify(spec.client)}`);
if (typeof spec.url !== 'string') fail('spec.url must be a string');
runners[spec.client]().catch((err) => fail(errorMessage(err)));
