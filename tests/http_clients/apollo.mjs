// Apollo Client 4 (core, no React) against our server at GRAPHQL_URL, through Node's own
// fetch, wrapped to record every request and answer. Each scenario prints one JSON line
// {"scenario", "ok", ...details}; the process exits 1 when any scenario failed, 2 on misuse.
//
//   node apollo.mjs [pagination|apq|apq-get|batching ...]   (no names: all of them)
import { createHash, randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

import { ApolloClient, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";

const url = process.env.GRAPHQL_URL;
if (!url) {
  console.error("GRAPHQL_URL is not set");
  process.exit(2);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Every recorded request of the running scenario, reported when it throws.
let scenarioRequests = [];

/** Node's global fetch, recording each request (method, url, parsed body) and its answer. */
function recordingFetch() {
  const log = [];
  const fetchFn = async (input, init = {}) => {
    const entry = {
      method: (init.method ?? "GET").toUpperCase(),
      url: String(input),
      accept: new Headers(init.headers).get("accept"),
      body: typeof init.body === "string" ? parseJson(init.body) : (init.body ?? null),
    };
    log.push(entry);
    scenarioRequests.push(entry);
    const response = await fetch(input, init);
    entry.status = response.status;
    entry.contentType = response.headers.get("content-type");
    entry.etag = response.headers.get("etag");
    entry.response = parseJson(await response.clone().text());
    return response;
  };
  return { fetchFn, log };
}

function client(link, cache = new InMemoryCache()) {
  return new ApolloClient({ link, cache });
}

function httpClient(fetchFn) {
  return client(new HttpLink({ uri: url, fetch: fetchFn }));
}

/** Collects named checks; a scenario passes when every check held. */
class Checks {
  constructor() {
    this.failed = [];
    this.passed = [];
  }

  that(name, condition, detail) {
    if (condition) this.passed.push(name);
    else this.failed.push(detail === undefined ? name : { check: name, detail });
    return condition;
  }

  equal(name, actual, expected) {
    return this.that(name, isDeepStrictEqual(actual, expected), { actual, expected });
  }
}

// --- a. Relay cursor pagination merged in the normalized cache ---------------------------

const PAGE_SIZE = 7;
const PAGES = 3;
const NODE_FIELDS = "id powerKw connectionType { id title } statusType { id title }";

const PAGE_QUERY = gql`
  query ConnectionPage($after: String) {
    connectionInfos(first: ${PAGE_SIZE}, after: $after, orderBy: ID_ASC) {
      edges { cursor node { ${NODE_FIELDS} } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`;

const DIRECT_QUERY = gql`
  query ConnectionsAtOnce {
    connectionInfos(first: ${PAGE_SIZE * PAGES}, orderBy: ID_ASC) {
      edges { cursor node { ${NODE_FIELDS} } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`;

function firstCompleteResult(observable) {
  return new Promise((resolve, reject) => {
    const subscription = observable.subscribe({
      next: (result) => {
        if (result.error) reject(result.error);
        else if (result.dataState === "complete") resolve({ result, subscription });
      },
      error: reject,
    });
  });
}

async function pagination() {
  const checks = new Checks();
  const { fetchFn, log } = recordingFetch();
  const cache = new InMemoryCache({
    typePolicies: {
      Query: { fields: { connectionInfos: relayStylePagination(["filter", "orderBy"]) } },
    },
  });
  const paged = client(new HttpLink({ uri: url, fetch: fetchFn }), cache);
  const observable = paged.watchQuery({ query: PAGE_QUERY, variables: { after: null } });
  const { subscription } = await firstCompleteResult(observable);
  const cursorsSent = [null];
  try {
    let endCursor = observable.getCurrentResult().data.connectionInfos.pageInfo.endCursor;
    for (let page = 1; page < PAGES; page += 1) {
      cursorsSent.push(endCursor);
      const more = await observable.fetchMore({ variables: { after: endCursor } });
      endCursor = more.data.connectionInfos.pageInfo.endCursor;
    }
  } finally {
    subscription.unsubscribe();
  }
  const merged = observable.getCurrentResult().data.connectionInfos;

  const direct = (
    await httpClient(fetch).query({ query: DIRECT_QUERY, fetchPolicy: "no-cache" })
  ).data.connectionInfos;

  const ids = merged.edges.map((edge) => edge.node.id);
  const directIds = direct.edges.map((edge) => edge.node.id);
  checks.equal("one request per page", log.length, PAGES);
  checks.equal(
    "each page sent the previous endCursor as after",
    log.map((entry) => entry.body?.variables?.after ?? null),
    cursorsSent,
  );
  checks.equal(`${PAGE_SIZE * PAGES} edges merged`, ids.length, PAGE_SIZE * PAGES);
  checks.equal("distinct ids", new Set(ids).size, ids.length);
  checks.equal("ids ascending", ids, [...ids].sort((a, b) => a - b));
  checks.equal("merged ids equal one direct page", ids, directIds);
  checks.equal("merged edges equal one direct page", merged.edges, direct.edges);
  checks.equal("totalCount equals direct", merged.totalCount, direct.totalCount);
  checks.equal(
    "merged endCursor is the last edge",
    merged.pageInfo.endCursor,
    direct.pageInfo.endCursor,
  );
  checks.equal("hasNextPage as direct", merged.pageInfo.hasNextPage, direct.pageInfo.hasNextPage);

  const readBack = cache.readQuery({ query: PAGE_QUERY, variables: { after: null } });
  checks.equal(
    "readQuery gives every merged edge",
    readBack?.connectionInfos.edges.map((edge) => edge.node.id),
    directIds,
  );

  // Normalization: each connection is stored once, under its id; its connection and status
  // types are references to entries stored once each, never inline copies.
  const store = cache.extract();
  const rootKey = Object.keys(store.ROOT_QUERY ?? {}).find((key) =>
    key.startsWith("connectionInfos"),
  );
  const rootEdges = store.ROOT_QUERY?.[rootKey]?.edges ?? [];
  checks.equal(
    "root field edges reference ConnectionInfo entries",
    rootEdges.map((edge) => edge.node),
    directIds.map((id) => ({ __ref: `ConnectionInfo:${id}` })),
  );
  for (const [typeName, field] of [
    ["ConnectionType", "connectionType"],
    ["StatusType", "statusType"],
  ]) {
    const expectedRefs = direct.edges.map((edge) =>
      edge.node[field] === null ? null : { __ref: `${typeName}:${edge.node[field].id}` },
    );
    checks.equal(
      `ConnectionInfo.${field} is a ${typeName} reference`,
      directIds.map((id) => store[`ConnectionInfo:${id}`]?.[field]),
      expectedRefs,
    );
    const referenced = new Set(expectedRefs.filter(Boolean).map((ref) => ref.__ref));
    const stored = Object.keys(store).filter((key) => key.startsWith(`${typeName}:`));
    checks.equal(`one ${typeName} entry per referenced id`, stored.sort(), [...referenced].sort());
    const titles = Object.fromEntries(
      direct.edges
        .filter((edge) => edge.node[field] !== null)
        .map((edge) => [`${typeName}:${edge.node[field].id}`, edge.node[field].title]),
    );
    checks.equal(
      `${typeName} entries hold their titles`,
      Object.fromEntries(stored.map((key) => [key, store[key].title])),
      titles,
    );
  }
  const connectionEntries = Object.keys(store).filter((key) => key.startsWith("ConnectionInfo:"));
  checks.equal(
    "one ConnectionInfo entry per id",
    connectionEntries.sort(),
    directIds.map((id) => `ConnectionInfo:${id}`).sort(),
  );
  return {
    ok: checks.failed.length === 0,
    failed: checks.failed,
    passed: checks.passed,
    ids,
    totalCount: merged.totalCount,
    storeKeys: Object.keys(store).length,
  };
}

// --- b. Automatic persisted queries --------------------------------------------------------

/** A query text no earlier run has sent, so the server cannot know its hash yet. */
function uniqueQuery(label) {
  const alias = `${label}_${randomUUID().replaceAll("-", "")}`;
  return gql`
    query PersistedProbe {
      ${alias}: connectionInfos(first: 3, orderBy: POWER_KW_DESC) {
        nodes { id powerKw connectionType { id title } }
        totalCount
      }
    }
  `;
}

function apqClient(fetchFn, options = {}) {
  return client(
    new PersistedQueryLink({ sha256, ...options }).concat(
      new HttpLink({ uri: url, fetch: fetchFn }),
    ),
  );
}

const isNotFound = (answer) =>
  Array.isArray(answer?.errors) &&
  answer.errors.some(
    (error) =>
      error.extensions?.code === "PERSISTED_QUERY_NOT_FOUND" ||
      error.message === "PersistedQueryNotFound",
  );

/** The first client registers the query: hash only, PersistedQueryNotFound, then query. */
async function register(checks, query) {
  const { fetchFn, log } = recordingFetch();
  const data = (await apqClient(fetchFn).query({ query, fetchPolicy: "no-cache" })).data;
  const [hashOnly, withQuery] = log;
  checks.equal("registering: two requests", log.length, 2);
  checks.that(
    "registering: first sends no query",
    hashOnly && !("query" in hashOnly.body),
    hashOnly,
  );
  checks.that(
    "registering: first answered PersistedQueryNotFound",
    isNotFound(hashOnly?.response),
    hashOnly,
  );
  checks.that(
    "registering: retry sends the query and the hash",
    typeof withQuery?.body?.query === "string" &&
      withQuery.body.extensions?.persistedQuery?.sha256Hash === sha256(withQuery.body.query),
    withQuery,
  );
  checks.that(
    "registering: retry answered with data",
    withQuery?.response?.data != null,
    withQuery,
  );
  return { data, hash: hashOnly?.body?.extensions?.persistedQuery?.sha256Hash, log };
}

async function direct(query) {
  return (await httpClient(fetch).query({ query, fetchPolicy: "no-cache" })).data;
}

async function apq() {
  const checks = new Checks();
  const query = uniqueQuery("apq");
  const registered = await register(checks, query);

  const { fetchFn, log } = recordingFetch();
  const data = (await apqClient(fetchFn).query({ query })).data;
  checks.equal("fresh client: exactly one request", log.length, 1);
  checks.that("fresh client: a POST", log[0]?.method === "POST", log[0]);
  checks.that("fresh client: no query sent", log[0] && !("query" in log[0].body), log[0]);
  checks.equal(
    "fresh client: the registered hash sent",
    log[0]?.body?.extensions?.persistedQuery,
    { version: 1, sha256Hash: registered.hash },
  );
  const expected = await direct(query);
  checks.equal("registering answer equals the plain query", registered.data, expected);
  checks.equal("hash-only answer equals the plain query", data, expected);
  return {
    ok: checks.failed.length === 0,
    failed: checks.failed,
    passed: checks.passed,
    hash: registered.hash,
    requests: [...registered.log, ...log],
  };
}

async function apqGet() {
  const checks = new Checks();
  const query = uniqueQuery("apq_get");
  const registered = await register(checks, query);

  const { fetchFn, log } = recordingFetch();
  const data = (
    await apqClient(fetchFn, { useGETForHashedQueries: true }).query({ query })
  ).data;
  const [request] = log;
  const params = request ? new URL(request.url).searchParams : new URLSearchParams();
  checks.equal("fresh GET client: exactly one request", log.length, 1);
  checks.that("fresh GET client: a GET", request?.method === "GET", request);
  checks.that("fresh GET client: no query parameter", !params.has("query"), request?.url);
  checks.equal(
    "fresh GET client: the hash in the extensions parameter",
    parseJson(params.get("extensions") ?? "null")?.persistedQuery,
    { version: 1, sha256Hash: registered.hash },
  );
  checks.equal("fresh GET client: status 200", request?.status, 200);
  checks.equal("GET answer equals the plain query", data, await direct(query));
  // The same GET, replayed as a revalidating HTTP cache would: the weak ETag it carried
  // must earn a 304 with no body.
  const etag = request?.etag ?? null;
  let revalidated = null;
  if (checks.that("GET answer carries a weak ETag", etag?.startsWith('W/"'), etag)) {
    const replay = await fetch(request.url, {
      headers: { accept: request.accept, "if-none-match": etag },
    });
    revalidated = { status: replay.status, body: await replay.text() };
    checks.equal("If-None-Match replay: 304, no body", revalidated, { status: 304, body: "" });
  }
  return {
    ok: checks.failed.length === 0,
    failed: checks.failed,
    passed: checks.passed,
    hash: registered.hash,
    etag,
    revalidated,
    requests: [...registered.log, ...log],
  };
}

// --- c. Batching --------------------------------------------------------------------------

const BATCHED = [
  { query: gql`query BatchLevels { levels { id title isFastChargeCapable } }` },
  {
    query: gql`
      query BatchStrongest($first: Int!) {
        connectionInfos(first: $first, orderBy: POWER_KW_DESC) {
          nodes { id powerKw currentType { id title } }
          totalCount
        }
      }
    `,
    variables: { first: 4 },
  },
  { query: gql`query BatchStatuses { statusTypes { id title isOperational } }` },
];

async function batching() {
  const checks = new Checks();
  const { fetchFn, log } = recordingFetch();
  const batched = client(
    new BatchHttpLink({ uri: url, fetch: fetchFn, batchMax: 5, batchInterval: 20 }),
  );
  const results = await Promise.all(
    BATCHED.map((operation) => batched.query({ ...operation, fetchPolicy: "no-cache" })),
  );
  const [request] = log;
  checks.equal("exactly one request", log.length, 1);
  checks.that("a POST", request?.method === "POST", request?.method);
  checks.that(
    "body is a JSON array of the three operations",
    Array.isArray(request?.body) && request.body.length === BATCHED.length,
    request?.body,
  );
  checks.equal(
    "operations in order",
    Array.isArray(request?.body) ? request.body.map((operation) => operation.operationName) : null,
    BATCHED.map((operation) => operation.query.definitions[0].name.value),
  );
  checks.that(
    "answer is a JSON array of three",
    Array.isArray(request?.response) && request.response.length === BATCHED.length,
    request?.response,
  );
  for (const [index, operation] of BATCHED.entries()) {
    const alone = await httpClient(fetch).query({ ...operation, fetchPolicy: "no-cache" });
    checks.equal(
      `${operation.query.definitions[0].name.value} equals the query run alone`,
      results[index].data,
      alone.data,
    );
  }
  return {
    ok: checks.failed.length === 0,
    failed: checks.failed,
    passed: checks.passed,
    request: request && { method: request.method, status: request.status, body: request.body },
  };
}

// ------------------------------------------------------------------------------------------

const SCENARIOS = { pagination, apq, "apq-get": apqGet, batching };

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenarios: ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS)}`);
  process.exit(2);
}

let allOk = true;
for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
  let outcome;
  scenarioRequests = [];
  try {
    outcome = await SCENARIOS[name]();
  } catch (error) {
    outcome = {
      ok: false,
      error: `${error?.name}: ${error?.message}`,
      errors: error?.errors,
      bodyText: error?.bodyText,
      requests: scenarioRequests,
      stack: error?.stack,
    };
  }
  allOk &&= outcome.ok;
  process.stdout.write(`${JSON.stringify({ scenario: name, ...outcome })}\n`);
}
process.exit(allOk ? 0 : 1);
