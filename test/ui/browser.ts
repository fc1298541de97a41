/**
 * Headless Chromium for the browser suite: Debian's `chromium` package driven by playwright-core (no browser download;
 * `.ci/run` installs the package when missing). A page visit records what a person would notice — requests answered
 * with an error status or not answered at all, console errors, uncaught exceptions — and can save a screenshot.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Without the background-networking flags Chromium reaches out at start, which a closed network refuses. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Visit {
  page: Page;
  /** "METHOD /path STATUS" of every response with status >= 400, and "METHOD /path FAILED <error>" of unanswered requests. */
  failedRequests: string[];
  /** Console errors and uncaught page exceptions, as text. */
  consoleErrors: string[];
  close(): Promise<void>;
}

export interface Chromium {
  /** Opens `url` in a fresh context (no cookies or local storage from earlier visits) and starts recording. */
  visit(url: string): Promise<Visit>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  // playwright starts Chromium on a fresh temporary profile (its own --user-data-dir) and removes it on close.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    async visit(url) {
      const context: BrowserContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const failedRequests: string[] = [];
      const consoleErrors: string[] = [];
      const where = (u: string) => new URL(u).pathname;
      page.on("response", (res) => {
        if (res.status() >= 400) failedRequests.push(`${res.request().method()} ${where(res.url())} ${res.status()}`);
      });
      page.on("requestfailed", (req) => {
        const error = req.failure()?.errorText ?? "";
        // A request the page itself cancelled (navigation, an unmounted component) is no server failure.
        if (!error.includes("ERR_ABORTED")) failedRequests.push(`${req.method()} ${where(req.url())} FAILED ${error}`);
      });
      page.on("console", (msg) => {
        if (msg.type() === "error") consoleErrors.push(msg.text());
      });
      page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
      await page.goto(url);
      return { page, failedRequests, consoleErrors, close: () => context.close() };
    },
    async close() {
      await browser.close();
    },
  };
}

/**
 * Waits until the page has had no request in flight for `quietMs` (bounded by `maxMs`): the UI has finished loading
 * what it shows. Pages that poll still settle between polls.
 */
export async function settled(page: Page, quietMs = 1500, maxMs = 20_000): Promise<void> {
  let inFlight = 0;
  let last = Date.now();
  const start = () => {
    inFlight++;
    last = Date.now();
  };
  const end = () => {
    inFlight = Math.max(0, inFlight - 1);
    last = Date.now();
  };
  page.on("request", start);
  page.on("requestfinished", end);
  page.on("requestfailed", end);
  const deadline = Date.now() + maxMs;
  try {
    while (Date.now() < deadline && (inFlight > 0 || Date.now() - last < quietMs)) await page.waitForTimeout(100);
  } finally {
    page.off("request", start);
    page.off("requestfinished", end);
    page.off("requestfailed", end);
  }
}
