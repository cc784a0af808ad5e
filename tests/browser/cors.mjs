// Loads cors.html from a second origin in Debian's Chromium, headless, for
// tests/test_cors_browser.py: one tab per page URL, each waiting until the page's own script
// has made its cross-origin fetches, then reading the outcome it wrote. Prints one JSON
// report on stdout ({pages: [{url, outcome, console}], problems}) and exits non-zero when a
// step failed, a page threw or a request left loopback. Console errors are kept per page,
// not counted as problems: a refused CORS request logs one by design.
//
// env: PAGE_URLS (a JSON array of URLs)
import { launch, offLoopback } from "./chromium.mjs";

const PAGE_URLS = JSON.parse(process.env.PAGE_URLS);

const report = { pages: [], requests: [], problems: [] };
const { context, close } = await launch();
context.on("request", (request) => report.requests.push(request.url()));

try {
  for (const url of PAGE_URLS) {
    const entry = { url, outcome: null, console: [] };
    report.pages.push(entry);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("console", (message) => {
      if (message.type() === "error") entry.console.push(message.text());
    });
    page.on("pageerror", (error) => report.problems.push(`page error: ${error.message}`));
    await page.goto(url);
    const outcome = page.locator("#outcome[data-done]");
    await outcome.waitFor({ state: "attached" });
    entry.outcome = JSON.parse(await outcome.textContent());
    await page.close();
  }
} catch (error) {
  report.problems.push(`step failed: ${error.message}`);
} finally {
  await close();
}

report.problems.push(...offLoopback(report.requests));
console.log(JSON.stringify(report));
process.exitCode = report.problems.length ? 1 : 0;
