// Runs the playground's subscription example in Debian's Chromium, headless, for
// tests/test_playground_browser.py: loads PAGE_URL, opens the example's tab, runs it, and
// while it runs sets CONNECTION_ID's status over HTTP with API_KEY until GraphiQL's result
// pane shows the change. Prints one JSON report on stdout, and exits non-zero when a step
// failed, the page made a request off loopback or logged an error (a CSP refusal of the
// WebSocket would be one).
//
// env: PAGE_URL, TAB (the example's operation name), API_KEY, CONNECTION_ID,
//      STATUSES (a JSON array of two status ids, set in turn), SCREENSHOT
import { launch, offLoopback } from "./chromium.mjs";

const { PAGE_URL, TAB, API_KEY, SCREENSHOT } = process.env;
const CONNECTION_ID = Number(process.env.CONNECTION_ID);
const STATUSES = JSON.parse(process.env.STATUSES);
const QUERY_EDITOR = ".graphiql-query-editor .CodeMirror";
const RESULT_PANE = ".graphiql-response .CodeMirror";
const SET_STATUS = `mutation Set($id: Int!, $status: Int!) {
  setConnectionStatus(id: $id, statusTypeId: $status) {
    previousStatusTypeId
    userErrors { code message }
  }
}`;

const report = {
  tabQuery: null,
  result: null,
  changes: [], // {previous, status} for every mutation sent, in order
  sockets: [],
  subscribeFrames: 0,
  requests: [],
  problems: [],
};
const { context, close } = await launch({ viewport: { width: 1400, height: 900 } });
context.on("request", (request) => report.requests.push(request.url()));

async function setStatus(status) {
  const response = await fetch(new URL(PAGE_URL), {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": API_KEY },
    body: JSON.stringify({ query: SET_STATUS, variables: { id: CONNECTION_ID, status } }),
  });
  const body = await response.json();
  const payload = body.data?.setConnectionStatus;
  if (response.status !== 200 || body.errors || payload.userErrors.length) {
    throw new Error(`setConnectionStatus: ${response.status} ${JSON.stringify(body)}`);
  }
  report.changes.push({ previous: payload.previousStatusTypeId, status });
}

const resultText = (page) =>
  page.locator(RESULT_PANE).evaluate((element) => element.CodeMirror.getValue());

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on("console", (message) => {
    if (message.type() === "error") report.problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => report.problems.push(`page error: ${error.message}`));
  page.on("websocket", (socket) => {
    report.sockets.push(socket.url());
    socket.on("framesent", ({ payload }) => {
      if (String(payload).includes('"type":"subscribe"')) report.subscribeFrames += 1;
    });
  });

  await page.goto(PAGE_URL);
  await page.locator(QUERY_EDITOR).waitFor();
  await page.locator(".graphiql-tab").filter({ hasText: TAB }).click();
  await page.waitForFunction(
    ([selector, name]) => document.querySelector(selector).CodeMirror.getValue().includes(name),
    [QUERY_EDITOR, `subscription ${TAB}`],
  );
  report.tabQuery = await page
    .locator(QUERY_EDITOR)
    .evaluate((element) => element.CodeMirror.getValue());
  // GraphiQL reads the operation name 100 ms after the editor changes.
  await page.waitForFunction(
    ([selector, name]) => document.querySelector(selector).CodeMirror.operationName === name,
    [QUERY_EDITOR, TAB],
  );
  await page.locator(".graphiql-execute-button").click();
  const deadline = Date.now() + 30_000;
  while (report.subscribeFrames === 0 && Date.now() < deadline) await page.waitForTimeout(20);
  if (report.subscribeFrames === 0) throw new Error("GraphiQL sent no subscribe message");

  // The server takes the subscription a moment after the frame leaves, and a change made
  // before that is not heard: change the status until the pane shows an event.
  for (let attempt = 0; attempt < 25 && report.result === null; attempt += 1) {
    await setStatus(STATUSES[attempt % 2]);
    const shown = await page
      .waitForFunction(
        (selector) =>
          document.querySelector(selector)?.CodeMirror.getValue().includes("connectionStatusChanged"),
        RESULT_PANE,
        { timeout: 1_000 },
      )
      .then(() => true, () => false);
    if (shown) report.result = JSON.parse(await resultText(page));
  }
  if (report.result === null) throw new Error("no event reached the result pane");
  await page.screenshot({ path: SCREENSHOT });
} catch (error) {
  report.problems.push(`step failed: ${error.message}`);
} finally {
  await close();
}

report.problems.push(...offLoopback([...report.requests, ...report.sockets]));
console.log(JSON.stringify(report));
process.exitCode = report.problems.length ? 1 : 0;
