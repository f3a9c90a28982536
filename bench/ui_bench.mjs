// Driver of bench/ui_bench.sh: loads a page in headless Chromium RUNS times, each in a fresh
// browser profile (cold HTTP cache, after a warm-up request to /healthz), and prints the median time from navigation to the page's
// "fully rendered" mark (body[data-ready], set once every section has its data) and the bytes
// transferred (encoded, headers included, as Chromium's network layer counts them). As the
// reference measured in the same run it times the API calls the page makes, done directly
// from node (no browser, no rendering): the ratio shows what the page adds on top.
// Usage: node ui_bench.mjs URL RUNS CHROMIUM TMPDIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [url, runsArg, chromiumPath, tmp] = process.argv.slice(2);
const require = createRequire(path.join(process.cwd(), 'tests/ui/package.json'));
const { chromium } = require('playwright-core');
const runs = Number(runsArg) || 5;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

const times = [];
const bytes = [];
let requests = 0;
for (let i = 0; i < runs; i++) {
  const dir = fs.mkdtempSync(path.join(tmp, 'chr-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  let total = 0;
  let n = 0;
  cdp.on('Network.loadingFinished', (e) => { total += e.encodedDataLength; n += 1; });
  // Start the renderer and the connection first (a page without assets), so the figure is the
  // page's own cost with a cold HTTP cache, not the browser's start-up.
  await page.goto(new URL('/healthz', url).href);
  total = 0;
  n = 0;
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  times.push(performance.now() - t0);
  await page.waitForTimeout(50);
  bytes.push(total);
  requests = n;
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

// Reference: the page's API calls straight from node, same order and parallelism.
const origin = new URL(url).origin;
const P = `${origin}/api/v1/fulfillment/providers`;
const refTimes = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const [providers] = await Promise.all([
    fetch(`${P}/`).then((r) => r.json()),
    fetch(`${origin}/api/v1/reporting/blueprint-metrics?window_days=30`).then((r) => r.text()),
    fetch(`${P}/automation/status`).then((r) => r.text()),
    fetch(`${P}/automation/status/history?limit=10`).then((r) => r.text()),
  ]);
  await Promise.all((Array.isArray(providers) ? providers : []).slice(0, 6).map((p) => fetch(`${P}/${encodeURIComponent(p.id)}/orders?limit=25`).then((r) => r.text())));
  refTimes.push(performance.now() - t0);
}
const t = median(times);
const ref = median(refTimes);
console.log(JSON.stringify({ medianMs: Math.round(t), minMs: Math.round(Math.min(...times)), bytes: median(bytes), requests, apiOnlyMs: Math.round(ref), ratio: +(t / Math.max(ref, 1)).toFixed(1) }));
