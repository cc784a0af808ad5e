// connectionStatusChanged through the graphql-ws client (graphql-transport-ws over the `ws`
// package) against our server at GRAPHQL_URL. Status changes are made by this script through
// mutations over HTTP with the API key in OCM_GQL_KEY, in a known order; the events must arrive
// once each, in that order, filtered. Prints one JSON line {"scenario": "subscriptions", "ok",
// "passed", "failures", ...}; exits 1 when a check failed, 2 on misuse.
//
// The server is expected to run with OCM_GQL_KEEP_ALIVE_SECONDS=1,
// OCM_GQL_MAX_SUBSCRIPTIONS_PER_CONNECTION=3 and OCM_GQL_CORS_ORIGINS=$ALLOWED_ORIGIN.
import { isDeepStrictEqual } from "node:util";

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const url = process.env.GRAPHQL_URL;
const key = process.env.OCM_GQL_KEY;
const allowedOrigin = process.env.ALLOWED_ORIGIN;
if (!url || !key || !allowedOrigin) {
  console.error("GRAPHQL_URL, OCM_GQL_KEY and ALLOWED_ORIGIN must be set");
  process.exit(2);
}
const wsUrl = url.replace(/^http/, "ws");

const LIMIT = 3;
const ROUNDS = 5;
// Statuses the checked changes cycle through; the warm-up uses others (30, 75), so its
// events are told apart by their status alone.
const STATUSES = [10, 20, 50, 100, 150];
const WARM_UP = [30, 75];

const SUBSCRIPTION = `
  subscription Changes($filter: ConnectionInfoFilter) {
    connectionStatusChanged(filter: $filter) {
      connectionInfo { id statusTypeId statusType { id } }
      previousStatusTypeId
      statusTypeId
      changedAt
    }
  }`;

const passed = [];
const failures = [];
function check(name, condition, details) {
  if (condition) passed.push(name);
  else failures.push({ check: name, details });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition, ms) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

async function http(query, variables) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors) {
    throw new Error(`${query.trim().split("\n")[0]}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.data;
}

const statuses = new Map();
const changes = []; // every change made, in commit order: {id, previous, status}

async function setStatus(id, status) {
  const data = await http(
    `mutation Set($id: Int!, $status: Int!) {
       setConnectionStatus(id: $id, statusTypeId: $status) {
         previousStatusTypeId
         userErrors { code message }
       }
     }`,
    { id, status },
  );
  const result = data.setConnectionStatus;
  if (result.userErrors.length) throw new Error(JSON.stringify(result.userErrors));
  if (result.previousStatusTypeId !== statuses.get(id)) {
    throw new Error(`connection ${id} was ${result.previousStatusTypeId}, not ${statuses.get(id)}`);
  }
  const change = { id, previous: statuses.get(id), status };
  statuses.set(id, status);
  return change;
}

/** One subscription through the client: its events, its error, whether it completed. */
function subscribe(client, filter) {
  const stream = { events: [], error: null, completed: false };
  stream.stop = client.subscribe(
    { query: SUBSCRIPTION, variables: filter ? { filter } : {} },
    {
      next: (result) => {
        if (result.errors) stream.error = result.errors;
        else stream.events.push(result.data.connectionStatusChanged);
      },
      error: (error) => {
        // The server's `error` message (a list of GraphQL errors), or the socket's failure.
        stream.error = Array.isArray(error)
          ? error
          : { message: error?.message ?? error?.reason ?? String(error), code: error?.code };
      },
      complete: () => {
        stream.completed = true;
      },
    },
  );
  return stream;
}

const summary = (event) => ({
  id: event.connectionInfo.id,
  previous: event.previousStatusTypeId,
  status: event.statusTypeId,
});

function checkStream(name, stream, expected) {
  const received = stream.events.filter((e) => !WARM_UP.includes(e.statusTypeId));
  check(`${name}: no error`, stream.error === null, stream.error);
  check(`${name}: ${expected.length} events, once each, in commit order`, isDeepStrictEqual(
    received.map(summary),
    expected,
  ), { expected, received: received.map(summary) });
  check(
    `${name}: connectionInfo is the connection after the change`,
    received.every(
      (e) => e.connectionInfo.statusTypeId === e.statusTypeId &&
        e.connectionInfo.statusType.id === e.statusTypeId,
    ),
    received,
  );
  const times = received.map((e) => Date.parse(e.changedAt));
  check(
    `${name}: changedAt is a time, never going back`,
    times.every((t, i) => !Number.isNaN(t) && (i === 0 || t >= times[i - 1])),
    received.map((e) => e.changedAt),
  );
}

/** Whether a client whose handshake carries ``origin`` (as a browser's does) gets in. */
async function connectsFrom(origin) {
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address, protocols) {
      super(address, protocols, { origin });
    }
  }
  let connected = false;
  const browser = createClient({
    url: wsUrl,
    webSocketImpl: BrowserLikeWebSocket,
    retryAttempts: 0,
    on: { connected: () => (connected = true) },
  });
  const stream = subscribe(browser, { ids: [0] });
  await waitFor(() => connected || stream.error !== null, 5_000);
  await browser.dispose();
  return { connected, error: stream.error };
}

let serverPings = 0;
const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  on: {
    ping: (received) => {
      if (received) serverPings += 1;
    },
  },
});

const report = { scenario: "subscriptions" };
try {
  const first = await http("{ connectionInfos(first: 3) { nodes { id statusTypeId } } }");
  const [A, B, C] = first.connectionInfos.nodes.map((node) => node.id);
  for (const node of first.connectionInfos.nodes) statuses.set(node.id, node.statusTypeId);
  report.connections = { A, B, C };

  const ab = subscribe(client, { ids: [A, B] });
  const all = subscribe(client, { ids: [A, B, C] });

  // The server says nothing when a subscription is live: change A (to warm-up statuses)
  // until both have heard of it. Later changes then reach both.
  let live = false;
  for (let attempt = 0; attempt < 50 && !live; attempt += 1) {
    await setStatus(A, statuses.get(A) === WARM_UP[0] ? WARM_UP[1] : WARM_UP[0]);
    live = await waitFor(() => ab.events.length > 0 && all.events.length > 0, 200);
  }
  check("both subscriptions went live", live, { ab: ab.error, all: all.error });

  // The checked changes: C (filtered out of `ab`), A and B, in an order that differs per
  // round, each to a status it does not have yet.
  const checked = [];
  const orders = [[C, A, B], [A, C, B], [B, A, C], [A, B, C], [C, B, A]];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [turn, id] of orders[round % orders.length].entries()) {
      let status = STATUSES[(round + turn) % STATUSES.length];
      if (status === statuses.get(id)) status = STATUSES[(round + turn + 1) % STATUSES.length];
      checked.push(await setStatus(id, status));
    }
  }
  const expectedAb = checked.filter((c) => c.id !== C);
  const countChecked = (stream) =>
    stream.events.filter((e) => !WARM_UP.includes(e.statusTypeId)).length;
  await waitFor(
    () => countChecked(ab) >= expectedAb.length && countChecked(all) >= checked.length,
    10_000,
  );
  await sleep(300); // anything sent twice would come now
  checkStream("filter {ids: [A, B]}", ab, expectedAb);
  checkStream("filter {ids: [A, B, C]}", all, checked);
  report.events = { ab: countChecked(ab), all: countChecked(all) };
  check(
    "no event for C through {ids: [A, B]}",
    ab.events.every((e) => e.connectionInfo.id !== C),
    ab.events.map(summary),
  );

  // The limit per socket: with two running, a third is accepted and a fourth refused.
  const third = subscribe(client, { ids: [C] });
  const fourth = subscribe(client, { ids: [C] });
  await waitFor(() => fourth.error !== null, 5_000);
  const code = Array.isArray(fourth.error) ? fourth.error[0]?.extensions?.code : null;
  check(`subscription ${LIMIT + 1} on a socket is refused with TOO_MANY_SUBSCRIPTIONS`, code ===
    "TOO_MANY_SUBSCRIPTIONS", fourth.error);
  check("the others keep running", third.error === null && ab.error === null, {
    third: third.error,
    ab: ab.error,
  });
  const last = await setStatus(A, statuses.get(A) === 10 ? 20 : 10);
  const heard = await waitFor(() => countChecked(ab) === expectedAb.length + 1, 5_000);
  check("the first subscription still hears changes", heard && isDeepStrictEqual(
    summary(ab.events.at(-1)),
    last,
  ), ab.events.slice(-2).map(summary));

  // Keep-alive: the server pinged while all this ran (every second); the client answered.
  await waitFor(() => serverPings > 0, 3_000);
  check("keep-alive pings from the server arrived", serverPings > 0, { serverPings });
  report.serverPings = serverPings;

  for (const stream of [ab, all, third]) stream.stop();
  report.changes = checked.length;

  // Origins: a page elsewhere is refused at the handshake (HTTP 403); an allowed one is in.
  const foreign = await connectsFrom("https://elsewhere.example");
  check(
    "a handshake from another origin is refused (403)",
    !foreign.connected && /403/.test(foreign.error?.message ?? ""),
    foreign,
  );
  const allowed = await connectsFrom(allowedOrigin);
  check("a handshake from an allowed origin is accepted", allowed.connected, allowed);
} catch (error) {
  failures.push({ check: "the scenario ran to its end", details: String(error?.stack ?? error) });
} finally {
  await client.dispose();
}

report.ok = failures.length === 0;
report.passed = passed;
report.failures = failures;
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
