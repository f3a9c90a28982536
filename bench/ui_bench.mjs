// Driver of bench/ui_bench.sh: loads a page in headless Chromium RUNS times and prints the
// median time to the page's "fully rendered" mark and the bytes transferred (encoded, headers
// included, as Chromium's network layer counts them).
//
// One browser is started; every load runs in a new browser context (its own empty HTTP cache,
// storage and renderer process: a cold cache, as for an operator opening the page for the first
// time in a browser that is already running), after a warm-up request to /healthz in that
// context. Browser start-up is not counted. Two times are taken per load:
//   - rendered: in the page, from the navigation start to the first frame painted after the
//     page set body[data-ready] (every section has its data), from the Navigation Timing clock;
//   - wall: in the driver, from page.goto() to Playwright seeing body[data-ready], which adds
//     the DevTools protocol round trips and polling of the driver.
// As the reference measured in the same run it times the API calls the page makes, done
// directly from node (no browser, no rendering): the ratio shows what the page adds on top.
// With a fourth argument "static" it times the page alone (no API reference): the bench uses it
// for a floor, a static page with the same stylesheet and one module that marks itself ready.
// Usage: node ui_bench.mjs URL RUNS CHROMIUM [static]
import path from 'node:path';
import { createRequire } from 'node:module';

const [url, runsArg, chromiumPath, mode] = process.argv.slice(2);
const require = createRequire(path.join(process.cwd(), 'tests/ui/package.json'));
const { chromium } = require('playwright-core');
const runs = Number(runsArg) || 5;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

// In the page: note when body[data-ready] appears, then when the next frame has been painted
// (a requestAnimationFrame callback runs before the frame's paint; a task posted from it runs
// after that paint).
const probe = () => {
  const mark = () => {
    if (window.__rendered !== undefined || !document.body || document.body.dataset.ready !== 'true') return false;
    window.__rendered = null;
    requestAnimationFrame(() => setTimeout(() => { window.__rendered = performance.now(); }, 0));
    return true;
  };
  new MutationObserver((_, obs) => { if (mark()) obs.disconnect(); }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });
};

// launch() gives the browser a fresh temporary profile of its own.
const browser = await chromium.launch({
  executablePath: chromiumPath, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const times = [];
const walls = [];
const bytes = [];
let requests = 0;
for (let i = 0; i < runs + 1; i++) { // the first load warms the browser up and is not counted
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(probe);
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  let total = 0;
  let n = 0;
  cdp.on('Network.loadingFinished', (e) => { total += e.encodedDataLength; n += 1; });
  await page.goto(new URL('/healthz', url).href);
  total = 0;
  n = 0;
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  const wall = performance.now() - t0;
  await page.waitForFunction(() => typeof window.__rendered === 'number', null, { timeout: 60000 });
  const rendered = await page.evaluate(() => window.__rendered);
  await page.waitForTimeout(50);
  if (i > 0) {
    times.push(rendered);
    walls.push(wall);
    bytes.push(total);
    requests = n;
  }
  await ctx.close();
}
await browser.close();

if (mode === 'static') {
  console.log(JSON.stringify({ medianMs: Math.round(median(times)), minMs: Math.round(Math.min(...times)), wallMs: Math.round(median(walls)), bytes: median(bytes), requests }));
  process.exit(0);
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
console.log(JSON.stringify({ medianMs: Math.round(t), minMs: Math.round(Math.min(...times)), wallMs: Math.round(median(walls)), bytes: median(bytes), requests, apiOnlyMs: Math.round(ref), ratio: +(t / Math.max(ref, 1)).toFixed(1) }));
