// What the browser tests share: Debian's Chromium, headless, in a throwaway profile, and
// the check that a page made no request off loopback.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

// A browser context; `close()` ends it and removes its profile.
export async function launch(options = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), "ocm-gql-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium", // Debian's: never a downloaded browser
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    ...options,
  });
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

// One problem per requested URL that left loopback (data: URLs never do).
export function offLoopback(urls) {
  return urls
    .filter((url) => {
      const { protocol, hostname } = new URL(url);
      return protocol !== "data:" && !LOOPBACK.has(hostname);
    })
    .map((url) => `request off loopback: ${url}`);
}
