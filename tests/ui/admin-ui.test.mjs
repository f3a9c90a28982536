// Browser tests of the admin pages, run by tests/integration/test_ui.py against seeded
// servers (UI_BASE_URL open, UI_TOKEN_URL with SMPLAT_API_TOKEN = UI_TOKEN). Drives the Debian
// Chromium headless through playwright-core, writes a screenshot of every page to UI_SHOTS
// and ends with "N passed, M failed" (exit 1 when M > 0).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.UI_BASE_URL;
const TOKEN_URL = process.env.UI_TOKEN_URL;
const TOKEN = process.env.UI_TOKEN;
const SECRET = process.env.UI_SECRET;
const SEED = JSON.parse(process.env.UI_SEED || '{}');
const SHOTS = process.env.UI_SHOTS || 'build/screenshots';
const API = '/api/v1/fulfillment/providers';
const alpha = SEED.providers['ui-alpha'];
const beta = SEED.providers['ui-beta'];

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function apiGet(url, token) {
  const res = await fetch(url, { headers: token ? { 'X-API-Key': token } : {} });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}
const alphaOrder = async () => (await apiGet(`${BASE}${API}/ui-alpha/orders`)).find((o) => o.id === alpha.providerOrderId);

const userDir = fs.mkdtempSync(path.join(process.env.UI_TMP || '/tmp', 'chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.UI_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pageErrors = [];
async function open(url, { viewport } = {}) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
  page.on('console', (m) => {
    // Failed API calls are shown on the page (and some are expected); other errors are bugs.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`${url}: console: ${m.text()}`);
  });
  page.on('dialog', (d) => d.accept());
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  return page;
}
async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
async function headings(page) {
  return page.$$eval('h1, h2, h3', (els) => els.map((e) => e.textContent.trim()));
}
function expectAll(have, want, where) {
  for (const w of want) assert(have.includes(w), `${where}: missing heading "${w}" (have: ${have.join(' | ')})`);
}
async function noSecret(page, where) {
  const html = await page.content();
  const values = await page.$$eval('input, textarea', (els) => els.map((e) => e.value).join('\n'));
  assert(!html.includes(SECRET) && !values.includes(SECRET), `${where}: the provider API key is visible`);
}

// ---- pages render their sections ----------------------------------------------------------

const queueIds = (page) => page.$$eval('.queue-item', (els) => els.map((e) => e.dataset.orderId));

test('orders page renders insights, status panel, queue and order detail', async () => {
  const page = await open(`${BASE}/admin/orders`);
  expectAll(await headings(page), ['Orders', 'Provider automation insights', 'Cohort load alerts', 'Top providers by guardrail alerts', 'Guardrail vs rule overrides', 'Automation cadence', 'Replay worker', 'Alert worker', 'Order queue', 'Provider automation', 'Order timeline'], '/admin/orders');
  assert(await page.locator('[data-testid="admin-provider-automation"]').count() === 1, 'provider automation detail missing');
  assert((await page.locator('[data-testid="replay-ran-at"]').textContent()).includes('No runs recorded'), 'replay worker should have no runs yet');
  // The queue is the first page (50) of GET /api/v1/orders, newest first: the two seeded
  // orders with provider orders, then the older bulk orders.
  const api = await apiGet(`${BASE}/api/v1/orders?limit=50`);
  const ids = await queueIds(page);
  assert(ids.length === 50 && ids.join() === api.map((o) => o.id).join(), `queue: ${ids.length} rows, not the API's first page`);
  assert(new Set(ids.slice(0, 2)).size === 2 && ids.slice(0, 2).every((id) => [alpha.orderId, beta.orderId].includes(id)), `the seeded orders should come first: ${ids.slice(0, 2)}`);
  const row = (await page.locator(`.queue-item[data-order-id="${alpha.orderId}"]`).textContent()).replace(/\s+/g, ' ');
  for (const want of ['UI-ui-alpha', 'processing', '€12.00', '1 item', 'preset Preset-Growth']) assert(row.includes(want), `alpha row "${row}" lacks "${want}"`);
  assert(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/.test(row), `alpha row "${row}" lacks the created time`);
  // The first order is selected; its detail is the provider automation of its provider order.
  assert(await page.locator('.queue-item.selected').getAttribute('data-order-id') === ids[0], 'the first order should be selected');
  await noSecret(page, '/admin/orders');
  await shot(page, 'admin-orders');
  // "Load more" appends the next page and disappears on the last one.
  await page.click('[data-testid="load-more"]');
  await page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n, SEED.bulkOrders.length + 2, { timeout: 15000 });
  const all = await queueIds(page);
  assert(new Set(all).size === all.length && SEED.bulkOrders.every((id) => all.includes(id)), 'load more: every order once');
  assert(await page.locator('[data-testid="load-more"]').isHidden(), '"Load more" should be gone after the last page');
  await page.close();
});

test('selecting an order shows its provider automation and timeline', async () => {
  const page = await open(`${BASE}/admin/orders?orderId=${beta.orderId}`);
  assert(await page.locator('.queue-item.selected').getAttribute('data-order-id') === beta.orderId, 'beta should be selected');
  assert((await page.locator('#order-detail h2').textContent()).includes('UI-ui-beta'), 'detail heading');
  const detail = await page.locator('[data-testid="admin-provider-automation"]').textContent();
  assert(detail.includes('ui-beta-svc') && !detail.includes('ui-alpha'), `the detail should show the provider order of beta: ${detail.slice(0, 300)}`);
  expectAll(await headings(page), ['Provider automation', 'Order timeline'], 'selected order');
  await shot(page, 'admin-orders-selected');
  // A click on another row selects it.
  await page.click(`.queue-item[data-order-id="${alpha.orderId}"] a`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert(new URL(page.url()).searchParams.get('orderId') === alpha.orderId, 'the link selects the order');
  assert((await page.locator('[data-testid="admin-provider-automation"]').textContent()).includes('ui-alpha-svc'), 'alpha detail');
  await page.close();
});

test('provider catalog renders cohorts, status, registration and catalog (masked secrets)', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers`);
  expectAll(await headings(page), ['Provider catalog', 'Preset-driven provider load', '7-day spike', '30-day cadence', '90-day baseline', 'Provider load alerts', 'Preset risk signals', 'Automation cadence', 'Register new provider', 'Provider wallet', 'Provider orders', 'Services'], '/admin/fulfillment/providers');
  const ids = await page.$$eval('details.provider', (els) => els.map((e) => e.dataset.providerId));
  assert(ids.includes('ui-alpha') && ids.includes('ui-beta'), `provider panels: ${ids}`);
  const card = page.locator(`[data-provider-order-id="${alpha.providerOrderId}"]`);
  assert((await card.locator('.banner').textContent()).includes('Margin warning'), 'margin warning banner missing');
  await page.locator('#provider-ui-alpha details.sub > summary', { hasText: 'Provider settings' }).click();
  const meta = await page.locator('#provider-ui-alpha form[aria-label^="Provider settings"] textarea[name="metadata"]').inputValue();
  assert(meta.includes('••••') && !meta.includes(SECRET), `metadata should show the API key masked: ${meta}`);
  await noSecret(page, '/admin/fulfillment/providers');
  await shot(page, 'admin-fulfillment-providers');
  await page.close();
});

test('provider detail route renders one provider', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers/ui-beta?tab=automation`);
  expectAll(await headings(page), ['Beta Network', 'Provider catalog', 'Guardrail follow-ups', 'Automation cadence'], 'provider detail');
  assert(await page.locator('details.provider').count() === 1, 'one provider panel expected');
  const placement = page.locator(`[data-provider-order-id="${beta.providerOrderId}"] [data-placement="error"]`);
  assert((await placement.textContent()).includes('Placement: outcome unknown'), 'placement outcome missing on the card');
  await shot(page, 'admin-fulfillment-provider-detail');
  await page.close();
});

// ---- guardrail follow-ups ------------------------------------------------------------------

const FOLLOWUPS = '/api/v1/reporting/guardrails/followups';

test('catalog panels show the guardrail follow-up timeline with "Load more"', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers`);
  const box = page.locator('#provider-ui-alpha details.followups');
  assert(await box.evaluate((el) => el.open), 'the timeline should be open when there are entries');
  assert(await box.locator('li.followup').count() === 5, 'the first page shows 5 follow-ups');
  const first = box.locator('li.followup').first();
  const text = await first.textContent();
  assert(text.includes('Escalated to ops') && text.includes('Seeded follow-up 1') && text.includes('2026-11-27 10:00 UTC'), `first entry: ${text}`);
  assert((await first.locator('[data-testid="followup-context"]').textContent()) === 'Instagram (@alpha)', 'platform context pill');
  assert((await first.locator('[data-testid="followup-conversion"]').getAttribute('href')).includes('conversionCursor='), 'conversion link');
  const labels = await box.locator('li.followup .chip').allTextContents();
  assert(labels.includes('Resumed automation') && labels.includes('Paused variant') && labels.includes('note_margin'), `labels: ${labels}`);
  await box.getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#provider-ui-alpha details.followups li.followup').length === 7, null, { timeout: 15000 });
  assert(await box.getByRole('button', { name: 'Load more' }).isHidden(), '"Load more" should disappear at the end');
  const beta = page.locator('#provider-ui-beta details.followups');
  assert(!(await beta.evaluate((el) => el.open)), 'an empty timeline starts closed');
  assert((await beta.textContent()).includes('No guardrail follow-ups have been logged for ui-beta.'), 'empty text');
  await shot(page, 'admin-fulfillment-providers-followups');
  await page.close();
});

test('provider detail shows status, telemetry and the follow-up timeline; recording prepends', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers/ui-alpha?tab=automation`);
  expectAll(await headings(page), ['Alpha Panel', 'Guardrail follow-ups', 'Provider automation telemetry', 'Record follow-up'], 'provider detail (alpha)');
  const status = await page.locator('[data-testid="guardrail-status"]').textContent();
  assert(status === 'Current status: Paused · Last action pause on 2026-11-27 10:00 UTC', `status: ${status}`);
  const tel = await page.locator('[data-testid="followup-telemetry"]').textContent();
  assert(tel.includes('Routed orders') && tel.includes('Guardrail checks') && tel.includes('Rule overrides: ui-alpha-svc (1)'), `telemetry: ${tel}`);
  assert(await page.locator('details.provider details.followups').count() === 0, 'the panel does not repeat the timeline');
  const items = page.locator('#automation li.followup');
  assert(await items.count() === 5, 'detail timeline first page');
  await shot(page, 'admin-fulfillment-provider-detail-followups');

  const form = page.locator('#record-followup');
  await form.getByLabel('Action', { exact: true }).selectOption('escalate_to_ops');
  await form.getByLabel('Notes').fill('Checked margins with the provider');
  await form.getByRole('button', { name: 'Record follow-up' }).click();
  await page.waitForFunction(() => document.querySelector('#record-followup .result')?.textContent === 'Follow-up recorded', null, { timeout: 15000 });
  const top = await items.first().textContent();
  assert(top.includes('Escalated to ops') && top.includes('Checked margins with the provider'), `new entry: ${top}`);
  const now = await page.locator('[data-testid="guardrail-status"]').textContent();
  assert(now.startsWith('Current status: Paused · Last action escalate_to_ops'), `status after recording: ${now}`);
  const listed = await apiGet(`${BASE}${FOLLOWUPS}?providerId=ui-alpha&limit=1`);
  assert(listed.entries[0].notes === 'Checked margins with the provider', `API: ${JSON.stringify(listed.entries[0])}`);

  await form.getByLabel('Action', { exact: true }).selectOption('other');
  await form.getByLabel('Other action').fill('x'.repeat(65));
  await form.getByRole('button', { name: 'Record follow-up' }).click();
  await page.waitForFunction(() => document.querySelector('#record-followup .result.error')?.textContent.includes('at most 64 characters'), null, { timeout: 15000 });
  assert(await page.locator('#record-followup .result[role="alert"]').count() === 1, 'the failure is announced');
  await shot(page, 'admin-fulfillment-provider-detail-record');
  await page.close();
});

test('merchandising page renders cohort load alerts and the automation pulse', async () => {
  const page = await open(`${BASE}/admin/merchandising`);
  expectAll(await headings(page), ['Merchandising', 'Cohort load alerts', 'Risky presets', 'Provider automation pulse', 'Automation cadence'], '/admin/merchandising');
  await shot(page, 'admin-merchandising');
  await page.close();
});

test('reports page renders the snapshot table, chart and run history', async () => {
  const page = await open(`${BASE}/admin/reports`);
  expectAll(await headings(page), ['Reports', 'Provider guardrail snapshot', 'Runs over time', 'Replay + alert history'], '/admin/reports');
  const rows = await page.locator('#snapshot table tbody tr').allTextContents();
  assert(rows.some((r) => r.includes('Alpha Panel')) && rows.some((r) => r.includes('Beta Network')), `snapshot rows: ${rows}`);
  await shot(page, 'admin-reports-empty-history');
  await page.close();
});

// ---- actions -------------------------------------------------------------------------------

test('"Run now" runs the replay worker and updates the panel', async () => {
  const page = await open(`${BASE}/admin/orders`);
  await page.locator('[data-worker="replay"] button[data-run="replay"]').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="replay-ran-at"]').textContent.includes('No runs recorded'), null, { timeout: 15000 });
  const result = await page.locator('[data-worker="replay"] .result').textContent();
  assert(result.includes('Run finished'), `run result: ${result}`);
  assert(await page.locator('[data-worker="replay"] .recent li').count() >= 1, 'recent runs should list the run');
  // The alert worker answers whatever it answers (a summary, or the API's detail on failure).
  await page.locator('[data-worker="alerts"] button[data-run="alerts"]').click();
  await page.waitForFunction(() => document.querySelector('[data-worker="alerts"] .result').textContent.trim() !== '', null, { timeout: 15000 });
  await shot(page, 'admin-orders-after-run-now');
  await page.close();
  const history = await apiGet(`${BASE}${API}/automation/status/history?limit=5`);
  assert(history.replay.length >= 1, 'the API history should have the run');
});

test('"Replay provider order" executes a replay, on screen and in the API', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`);
  const card = () => page.locator(`[data-provider-order-id="${alpha.providerOrderId}"]`);
  await card().getByRole('button', { name: 'Replay provider order' }).click();
  await page.waitForFunction((id) => document.querySelector(`[data-provider-order-id="${id}"] .result`)?.textContent === 'Updated', alpha.providerOrderId, { timeout: 15000 });
  assert(await card().locator('[data-list="replays"] li[data-status="executed"]').count() === 1, 'replay history should show the executed replay');
  const po = await alphaOrder();
  assert(po.replays.length === 1 && po.replays[0].status === 'executed', `API replays: ${JSON.stringify(po.replays)}`);
  await page.close();
});

test('"Queue replay" schedules a replay, on screen and in the API', async () => {
  const before = (await alphaOrder()).scheduledReplays.length;
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`);
  const card = () => page.locator(`[data-provider-order-id="${alpha.providerOrderId}"]`);
  const shown = await card().locator('[data-list="scheduled"] li').count();
  await card().getByRole('button', { name: 'Queue replay' }).click();
  await page.waitForFunction(([id, n]) => document.querySelectorAll(`[data-provider-order-id="${id}"] [data-list="scheduled"] li`).length === n + 1, [alpha.providerOrderId, shown], { timeout: 15000 });
  const po = await alphaOrder();
  assert(po.scheduledReplays.length === before + 1, `API scheduled replays: ${po.scheduledReplays.length}, before ${before}`);
  await page.close();
});

test('"Trigger refill" records a refill, on screen and in the API', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`);
  const card = () => page.locator(`[data-provider-order-id="${alpha.providerOrderId}"]`);
  await card().getByLabel('Timeline note').fill('Customer reported a drop');
  await card().getByRole('button', { name: 'Trigger refill' }).click();
  await page.waitForFunction((id) => document.querySelectorAll(`[data-provider-order-id="${id}"] [data-list="refills"] li`).length === 1, alpha.providerOrderId, { timeout: 15000 });
  const po = await alphaOrder();
  assert(po.refills.length === 1, `API refills: ${JSON.stringify(po.refills)}`);
  await shot(page, 'admin-fulfillment-providers-after-actions');
  await page.close();
});

test('a failed action shows the API detail', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-beta`);
  await page.locator('#provider-ui-beta').getByRole('button', { name: 'Refresh balance' }).click();
  await page.waitForFunction(() => document.querySelector('#provider-ui-beta .wallet .result.error')?.textContent.includes('Balance endpoint is not configured'), null, { timeout: 15000 });
  await page.close();
});

test('"Refresh balance" shows the wallet snapshot', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`);
  await page.locator('#provider-ui-alpha').getByRole('button', { name: 'Refresh balance' }).click();
  await page.waitForFunction(() => document.querySelector('#provider-ui-alpha .wallet')?.textContent.includes('123.45'), null, { timeout: 15000 });
  await page.close();
});

test('a service card shows its cost insights and previews the margin against its guardrails', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`);
  const box = page.locator('#provider-ui-alpha [data-service-id="ui-alpha-svc"] [data-testid="service-insights"]');
  const text = await box.textContent();
  for (const want of ['Cost structure', '$0.01 per follower · minimum 100 units', 'Batch size 500', '2000 / day', 'Fulfillment window ~48h', 'Drip over two days',
    'Minimum margin 20.0%', 'Warn below 35.0%', 'Hard floor $1.00', 'Payload templates: order, refill', 'Provider cost: $10.00', 'Enter a customer price to evaluate guardrails.']) {
    assert(text.includes(want), `insights miss "${want}": ${text}`);
  }
  assert(await box.getByLabel('Preview quantity').inputValue() === '1000', 'the preview quantity defaults to defaultInputs.quantity');
  const preview = box.locator('[data-testid="margin-preview"]');
  await box.getByLabel('Customer price').fill('20');
  assert((await preview.textContent()) === '$10.00 margin (50.0%) · Healthy', await preview.textContent());
  await box.getByLabel('Customer price').fill('14');
  assert((await preview.textContent()) === '$4.00 margin (28.6%) · Warning', await preview.textContent());
  await box.getByLabel('Customer price').fill('11');
  assert((await preview.textContent()) === '$1.00 margin (9.1%) · Below guardrails', await preview.textContent());
  await box.getByLabel('Preview quantity').fill('10'); // below the minimum: still 100 units
  assert((await box.textContent()).includes('Provider cost: $1.00'), 'the minimum units apply');
  // Beta's service has no cost model, cadence or guardrails: no insights block.
  const page2 = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-beta`);
  assert(await page2.locator('#provider-ui-beta [data-testid="service-insights"]').count() === 0, 'beta shows no insights');
  await shot(page, 'admin-fulfillment-providers-service-insights');
  await page2.close();
  await page.close();
});

test('cost models are priced and described as the original did', async () => {
  const page = await open(`${BASE}/admin/reports`);
  const r = await page.evaluate(async () => {
    const m = await import('/admin/assets/service-insights.js');
    const tiered = { kind: 'tiered', currency: 'USD', tiers: [{ upTo: 1000, unitAmount: 0.02 }, { upTo: 100, unitAmount: 0.05 }, { upTo: null, unitAmount: 0.01 }] };
    return {
      flat: m.estimateProviderCost({ kind: 'flat', amount: 3.5 }, 999),
      perUnit: m.estimateProviderCost({ kind: 'per_unit', unitAmount: 0.5, minimumUnits: 10 }, 4),
      tiered: m.estimateProviderCost(tiered, 1500),
      tieredSmall: m.estimateProviderCost(tiered, 50),
      tieredZero: m.estimateProviderCost(tiered, 0),
      lastRate: m.estimateProviderCost({ kind: 'tiered', tiers: [{ upTo: 10, unitAmount: 1 }, { upTo: 20, unitAmount: 2 }] }, 25),
      none: m.estimateProviderCost(null, 5),
      describeTiered: m.describeCostModel(tiered),
      describeFlat: m.describeCostModel({ kind: 'flat', amount: 1.2, currency: 'EUR' }),
      cadence: m.describeCadence({ batchSize: 5, expectedCompletionHours: 12, refillWindowHours: 72 }),
      guardrails: m.describeGuardrails({ minimumMarginPercent: 12.345, notes: ' keep it ' }),
    };
  });
  assert(r.flat === 3.5 && r.perUnit === 5 && r.none === null, JSON.stringify(r));
  // 100 at 0.05, 900 at 0.02, 500 at 0.01
  assert(Math.abs(r.tiered - (5 + 18 + 5)) < 1e-9, `tiered ${r.tiered}`);
  assert(Math.abs(r.tieredSmall - 2.5) < 1e-9 && r.tieredZero === null, JSON.stringify(r));
  assert(r.lastRate === 10 + 20 + 10, `the remainder goes to the last band's rate: ${r.lastRate}`);
  assert(JSON.stringify(r.describeTiered) === JSON.stringify(['Tiered pricing (3 bands)', '≤ 1000: $0.02 per unit', '≤ 100: $0.05 per unit', '≤ ∞: $0.01 per unit']), JSON.stringify(r.describeTiered));
  assert(JSON.stringify(r.describeFlat) === JSON.stringify(['€1.20 per order']), JSON.stringify(r.describeFlat));
  assert(JSON.stringify(r.cadence) === JSON.stringify(['Batch size 5', 'Expected completion ~12h', 'Refill buffer 72h']), JSON.stringify(r.cadence));
  assert(JSON.stringify(r.guardrails) === JSON.stringify(['Minimum margin 12.3%', 'keep it']), JSON.stringify(r.guardrails));
  await page.close();
});

test('creating a provider with an endpoint JSON works', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers`);
  await page.locator('#register summary').click();
  const form = page.locator('#create-provider');
  await form.getByLabel('Provider ID').fill('ui-gamma');
  await form.getByLabel('Display name').fill('Gamma Panel');
  await form.getByLabel('Allowed regions').fill('eu,\nnorth-america');
  await form.getByLabel('Order endpoint (JSON)').fill('{"method": "POST", "url": "https://gamma.example/api/v2", "payload": {"action": "add"}}');
  await form.getByRole('button', { name: 'Create provider' }).click();
  await page.waitForFunction(() => document.querySelector('#create-provider .result')?.textContent === 'Updated', null, { timeout: 15000 });
  await page.waitForSelector('#provider-ui-gamma');
  const p = await apiGet(`${BASE}${API}/ui-gamma`);
  assert(p.metadata.automation.endpoints.order.url === 'https://gamma.example/api/v2', `metadata: ${JSON.stringify(p.metadata)}`);
  assert(JSON.stringify(p.allowedRegions) === '["eu","north-america"]', `regions: ${JSON.stringify(p.allowedRegions)}`);
  await page.close();
});

test('invalid JSON in a form shows the error and sends nothing', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers`);
  await page.locator('#register summary').click();
  const form = page.locator('#create-provider');
  await form.getByLabel('Provider ID').fill('ui-broken');
  await form.getByLabel('Display name').fill('Broken');
  await form.getByLabel('Metadata (JSON)').fill('{"automation": ');
  await form.getByRole('button', { name: 'Create provider' }).click();
  await page.waitForFunction(() => document.querySelector('#create-provider .result.error')?.textContent.startsWith('metadata:'), null, { timeout: 5000 });
  await form.getByLabel('Metadata (JSON)').fill('42');
  await form.getByRole('button', { name: 'Create provider' }).click();
  await page.waitForFunction(() => document.querySelector('#create-provider .result.error')?.textContent === 'metadata must be a JSON object.', null, { timeout: 5000 });
  await shot(page, 'admin-fulfillment-providers-invalid-json');
  const res = await fetch(`${BASE}${API}/ui-broken`);
  assert(res.status === 404, `the broken provider must not exist (got ${res.status})`);
  await page.close();
});

// ---- deep links ----------------------------------------------------------------------------

test('deep-link parameters filter the pages', async () => {
  let page = await open(`${BASE}/admin/orders?providerId=ui-beta`);
  let ids = await queueIds(page);
  assert(ids.length === 1 && ids[0] === beta.orderId, `providerId filter: ${ids}`);
  assert((await page.locator('[data-testid="order-filter"]').textContent()).includes('provider ui-beta'), 'filter notice missing');
  assert(await page.locator('[data-testid="clear-filters"]').getAttribute('href') === '/admin/orders', 'clear filters link');
  assert((await page.locator('[data-testid="admin-provider-automation"]').textContent()).includes('ui-beta-svc'), 'filtered detail');
  await shot(page, 'admin-orders-filter-provider');
  await page.close();

  page = await open(`${BASE}/admin/orders?presetId=preset-growth`);
  ids = await queueIds(page);
  assert(ids.length === 1 && ids[0] === alpha.orderId, `presetId filter: ${ids}`);
  await page.close();

  page = await open(`${BASE}/admin/orders?presetId=preset-growth&providerId=ui-beta`);
  assert((await queueIds(page)).length === 0, 'preset and provider combine with AND');
  assert((await page.locator('#order-queue').textContent()).includes('No orders match these filters.'), 'no-match message');
  expectAll(await headings(page), ['Provider automation insights', 'Automation cadence', 'Order queue'], 'no match keeps the automation sections');
  assert(!(await page.locator('[data-testid="orders-empty"]').count()), 'a filter with no match is not the empty hero');
  await shot(page, 'admin-orders-filter-no-match');
  await page.click('[data-testid="clear-filters"]');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert((await queueIds(page)).length === 50, 'clear filters shows the whole queue');
  await page.close();

  page = await open(`${BASE}/admin/orders?status=completed`);
  ids = await queueIds(page);
  assert(ids.length === 50 && !ids.includes(alpha.orderId) && !ids.includes(beta.orderId), `status filter: ${ids.length}`);
  await page.close();

  page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-beta`);
  const panels = await page.$$eval('details.provider', (els) => els.map((e) => e.dataset.providerId));
  assert(panels.length === 1 && panels[0] === 'ui-beta', `provider filter: ${panels}`);
  await page.close();

  page = await open(`${BASE}/admin/merchandising?presetId=preset-growth`);
  assert(await page.locator('[data-testid="preset-filter"]').count() === 1, 'preset notice missing');
  await page.close();
});

test('reports show the runs after "Run now"', async () => {
  const page = await open(`${BASE}/admin/reports`);
  assert(await page.locator('#run-history li[data-kind="replay"]').count() >= 1, 'run history should list the replay run');
  assert(await page.locator('.chart svg rect').count() >= 3, 'the chart should have bars');
  await shot(page, 'admin-reports');
  await page.close();
});

test('pages are usable on a phone-sized screen', async () => {
  const page = await open(`${BASE}/admin/fulfillment/providers?providerId=ui-alpha`, { viewport: { width: 390, height: 844 } });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `horizontal overflow of ${overflow}px on a phone`);
  await shot(page, 'admin-fulfillment-providers-phone');
  await page.close();
  const p2 = await open(`${BASE}/admin/orders`, { viewport: { width: 390, height: 844 } });
  await shot(p2, 'admin-orders-phone');
  await p2.close();
});

test('keyboard: Tab reaches the navigation and "Run now" buttons', async () => {
  const page = await open(`${BASE}/admin/orders`);
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => document.activeElement?.textContent?.trim().slice(0, 40)));
  }
  assert(seen.includes('Skip to content') && seen.includes('Orders') && seen.includes('Run now'), `focus order: ${seen.join(' | ')}`);
  await page.close();
});

// ---- token ---------------------------------------------------------------------------------

test('a token-protected server prompts for the token once and keeps it in sessionStorage', async () => {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`token: ${e.message}`));
  await page.goto(`${TOKEN_URL}/admin/reports`);
  await page.waitForSelector('#token-dialog[open]', { timeout: 15000 });
  await shot(page, 'admin-token-prompt');
  await page.fill('#token-input', 'wrong-token');
  await page.click('#token-form button[type="submit"]');
  await page.waitForFunction(() => document.getElementById('token-error').textContent.includes('refused'), null, { timeout: 15000 });
  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type="submit"]');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  expectAll(await headings(page), ['Reports', 'Provider guardrail snapshot'], 'token reports');
  const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('smplat.apiToken'), local: localStorage.length, cookie: document.cookie }));
  assert(storage.session === TOKEN && storage.local === 0 && storage.cookie === '', `storage: ${JSON.stringify(storage)}`);
  // Another page of the same tab does not ask again.
  await page.goto(`${TOKEN_URL}/admin/orders`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert(!(await page.locator('#token-dialog[open]').count()), 'the token was asked twice');
  // This server's database has no order: the orders page is only the empty hero (spec §9.6).
  assert((await page.locator('[data-testid="orders-empty"]').textContent()).includes('No orders yet. As soon as customers complete checkout, new orders will appear here.'), 'empty hero');
  const shown = await page.$$eval('#main h1, #main h2, #main h3', (els) => els.map((e) => e.textContent.trim()));
  assert(shown.join() === 'Orders', `the empty hero shows no automation sections: ${shown.join(' | ')}`);
  await shot(page, 'admin-orders-empty');
  await page.close();
});

// ---- run ---------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
for (const t of tests) {
  const t0 = Date.now();
  try {
    await t.fn();
    passed += 1;
    console.log(`ok - ${t.name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${t.name}\n  ${String(err.stack || err).split('\n').slice(0, 4).join('\n  ')}`);
  }
}
if (pageErrors.length) {
  failed += 1;
  console.log(`not ok - no script errors on the pages\n  ${pageErrors.slice(0, 10).join('\n  ')}`);
} else {
  passed += 1;
  console.log('ok - no script errors on the pages');
}
await context.close();
fs.rmSync(userDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
