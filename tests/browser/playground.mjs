// Drives the GraphiQL playground in Debian's Chromium, headless, for
// tests/test_playground_browser.py: loads PAGE_URL, runs QUERY through the editor, reads
// the result pane, opens the docs explorer and takes a screenshot. Prints one JSON report
// on stdout, and exits non-zero when a step failed, the page made a request off loopback
// or logged an error.
//
// env: PAGE_URL, QUERY (one operation, named OPERATION_NAME), OPERATION_NAME, SCREENSHOT
import { launch, offLoopback } from "./chromium.mjs";

const { PAGE_URL, QUERY, OPERATION_NAME, SCREENSHOT } = process.env;
const QUERY_EDITOR = ".graphiql-query-editor .CodeMirror";
const RESULT_PANE = ".graphiql-response .CodeMirror";

const report = { initialQuery: null, result: null, docTypes: [], requests: [], problems: [] };
const { context, close } = await launch({ viewport: { width: 1400, height: 900 } });
context.on("request", (request) =>
  report.requests.push({
    url: request.url(),
    method: request.method(),
    accept: request.headers().accept ?? null,
    contentType: request.headers()["content-type"] ?? null,
  }),
);

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  // CSP refusals, failed loads and script errors show up here, so they fail the run too.
  page.on("console", (message) => {
    if (message.type() === "error") report.problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => report.problems.push(`page error: ${error.message}`));

  await page.goto(PAGE_URL);
  const queryEditor = page.locator(QUERY_EDITOR);
  await queryEditor.waitFor();
  report.initialQuery = await queryEditor.evaluate((element) => element.CodeMirror.getValue());

  // Set through CodeMirror's own API: typing would fight its bracket auto-closing. GraphiQL
  // takes the operation name 100 ms after an edit; running sooner would send the old one.
  await queryEditor.evaluate((element, query) => element.CodeMirror.setValue(query), QUERY);
  await page.waitForFunction(
    ([selector, name]) => document.querySelector(selector).CodeMirror.operationName === name,
    [QUERY_EDITOR, OPERATION_NAME],
  );
  await page.locator(".graphiql-execute-button").click();
  await page.waitForFunction(
    (selector) =>
      document.querySelector(selector)?.CodeMirror.getValue().trim().startsWith("{"),
    RESULT_PANE,
  );
  const resultText = await page
    .locator(RESULT_PANE)
    .evaluate((element) => element.CodeMirror.getValue());
  report.result = JSON.parse(resultText);

  // The docs explorer is built from the introspection query sent through our fetcher.
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  const typeNames = page.locator(".graphiql-doc-explorer .graphiql-doc-explorer-type-name");
  await typeNames.first().waitFor();
  report.docTypes = await typeNames.allInnerTexts();

  await page.screenshot({ path: SCREENSHOT });
} catch (error) {
  report.problems.push(`step failed: ${error.message}`);
} finally {
  await close();
}

report.problems.push(...offLoopback(report.requests.map(({ url }) => url)));
console.log(JSON.stringify(report));
process.exitCode = report.problems.length ? 1 : 0;
