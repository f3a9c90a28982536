// /admin/fulfillment/providers and /admin/fulfillment/providers/{id} (spec §9.4): cohort pulse,
// automation status, provider registration and the provider catalog with wallets, provider
// orders (refill, replay, schedule), guardrail follow-ups, settings and services. The detail
// route adds the provider's follow-up timeline with its guardrail status, telemetry and the
// "Record follow-up" form (§9.10, §9.11).
import { api, settle, PROVIDERS } from './api.js';
import { h, section, empty, errorLine, chip, isObj, fmtTime, prettyJson, busy, resultLine, showResult, params, fill, add, lazyDetails } from './dom.js';
import { automationStatusPanel } from './status-panel.js';
import { followupTimeline, statusLine, telemetryBox, recordForm } from './followups.js';
import { providerOrderCard, summarizeTelemetry, telemetryPanel } from './order-card.js';
import { cohortSection, loadBlueprint } from './cohort.js';
import { providerFields, providerBody, serviceFields, serviceBody } from './forms.js';
import { serviceInsights } from './service-insights.js';

const ORDER_LIMIT = 25;
const SHOWN = 8;
const OPEN_BY_DEFAULT = 6; // with more providers the panels start closed and load on opening

const pid = (p) => encodeURIComponent(p);

async function submitForm(form, button, line, fn) {
  let out;
  await busy(button, async () => {
    try {
      out = { ok: true, value: await fn() };
    } catch (err) {
      out = { ok: false, text: err.message || 'Request failed.' };
    }
  });
  if (!out.ok) showResult(line, false, out.text);
  return out;
}

function badge(value, kind) {
  const tone = { active: 'good', inactive: 'muted', healthy: 'good', degraded: 'warn', offline: 'bad', unknown: 'muted' }[value] || '';
  return chip(`${kind}: ${value ?? 'unknown'}`, tone);
}

// ---- provider orders of one panel ---------------------------------------------------------

function ordersBlock(provider) {
  const box = h('div', { class: 'orders', 'data-orders-for': provider.id }, h('p', { class: 'muted small', text: 'Loading provider orders…' }));
  let loaded = false;
  const reloadOne = async (order) => {
    const list = await api(`${PROVIDERS}/${pid(provider.id)}/orders?limit=${ORDER_LIMIT}`);
    return (list || []).find((o) => o.id === order.id) || null;
  };
  async function load() {
    loaded = true;
    let orders;
    try {
      orders = (await api(`${PROVIDERS}/${pid(provider.id)}/orders?limit=${ORDER_LIMIT}`)) || [];
    } catch (err) {
      fill(box, errorLine(`Provider orders unavailable: ${err.message}`));
      return;
    }
    const t = summarizeTelemetry(orders);
    const showTelemetry = t.totalOrders > 0 || t.replays.total > 0 || t.replays.scheduled > 0 || t.guardrails.evaluated > 0;
    fill(box, 
      h('p', { class: 'muted small', 'data-testid': 'orders-counter', text: `${Math.min(SHOWN, orders.length)} shown · ${orders.length} tracked` }),
      showTelemetry ? telemetryPanel(t) : null,
      orders.length
        ? h('div', { class: 'order-list' }, orders.slice(0, SHOWN).map((o) => providerOrderCard(o, { reload: reloadOne })))
        : empty('No provider orders recorded yet. Service overrides will populate this log after checkout.'),
      orders.length > SHOWN ? h('p', { class: 'muted small', text: `Showing latest ${SHOWN} of ${orders.length} provider orders.` }) : null);
  }
  box.load = load;
  box.isLoaded = () => loaded;
  return box;
}

// ---- one provider --------------------------------------------------------------------------

// A provider's panel: a <details> whose body (wallet, orders, forms, services) is built when
// it is first opened, so a catalog of hundreds of providers costs one summary line each.
function providerPanel(provider, ctx, open, flash = null) {
  const panel = h('details', { class: 'card provider', id: `provider-${provider.id}`, 'data-provider-id': provider.id, open });
  add(panel, h('summary', { class: 'provider-head' },
    h('span', { class: 'title' }, h('strong', { text: provider.name }), h('span', { class: 'muted small mono upper', text: provider.id })),
    h('span', { class: 'chips' }, badge(provider.status, 'Status'), badge(provider.healthStatus, 'Health'))));
  let built = false;
  const build = () => {
    built = true;
    return panelBody(provider, ctx, panel, flash);
  };
  panel.reloadOrders = () => null;
  panel.ready = open ? build() : Promise.resolve();
  panel.addEventListener('toggle', () => {
    if (panel.open && !built) build();
  });
  return panel;
}

function panelBody(provider, ctx, panel, flash) {
  const panelResult = resultLine();
  if (flash) showResult(panelResult, flash.ok, flash.text);

  // Orders and guardrail follow-ups (the detail route shows those in its own section instead):
  // their requests go out first, and the rest of the panel is built while they travel.
  const orders = ordersBlock(provider);
  panel.reloadOrders = () => orders.load();
  const followups = ctx.detail ? null : followupTimeline(provider.id);
  const loaded = Promise.all([orders.load(), followups?.load()]);

  async function replaceWithFresh(message) {
    try {
      const fresh = await api(`${PROVIDERS}/${pid(provider.id)}`);
      const next = providerPanel(fresh, ctx, true, { ok: true, text: message });
      panel.replaceWith(next);
      next.querySelector('summary').focus();
    } catch (err) {
      showResult(panelResult, false, err.message);
    }
  }

  // Wallet
  const snap = isObj(provider.balanceSnapshot) ? provider.balanceSnapshot : null;
  const walletLine = resultLine();
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh balance');
  refresh.addEventListener('click', async () => {
    const out = await submitForm(null, refresh, walletLine, () => api(`${PROVIDERS}/${pid(provider.id)}/balance/refresh`, { method: 'POST' }));
    if (out.ok) replaceWithFresh('Updated');
  });
  const wallet = h('div', { class: 'sub wallet' }, h('h3', { text: 'Provider wallet' }),
    snap ? h('p', {}, h('strong', { class: 'big', text: `${snap.currency ?? ''} ${snap.amount ?? '—'}`.trim() }), snap.retrievedAt ? h('span', { class: 'muted small', text: ` Checked ${fmtTime(snap.retrievedAt) || snap.retrievedAt}` }) : null)
      : empty('No balance snapshot captured yet.'),
    h('div', { class: 'row' }, refresh), walletLine,
    snap && isObj(snap.payload) && Object.keys(snap.payload).length
      ? lazyDetails({}, 'Raw payload', () => h('pre', { text: prettyJson(snap.payload) }))
      : h('p', { class: 'muted small', text: 'Awaiting automation payload. Configure balance endpoint to hydrate.' }));

  // Settings and delete: built when "Provider settings" is first opened.
  const settingsBlock = () => {
    const settingsLine = resultLine();
    const save = h('button', { class: 'btn primary', type: 'submit' }, 'Save provider');
    const settings = h('form', { class: 'form', 'aria-label': `Provider settings for ${provider.name}`, novalidate: true }, h('div', { class: 'fields' }, providerFields(provider)), h('div', { class: 'row' }, save), settingsLine);
    settings.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const out = await submitForm(settings, save, settingsLine, () => api(`${PROVIDERS}/${pid(provider.id)}`, { method: 'PATCH', body: providerBody(settings, provider) }));
      if (out.ok) replaceWithFresh('Updated');
    });

    const del = h('button', { type: 'button', class: 'btn danger' }, 'Delete provider');
    const delLine = resultLine();
    del.addEventListener('click', async () => {
      if (!window.confirm(`Delete provider ${provider.name} (${provider.id}) and its services?`)) return;
      const out = await submitForm(null, del, delLine, () => api(`${PROVIDERS}/${pid(provider.id)}`, { method: 'DELETE' }));
      if (out.ok) {
        const note = h('p', { class: 'result ok', role: 'status', text: `Deleted provider ${provider.id}.` });
        panel.replaceWith(note);
        ctx.onDeleted?.(provider.id);
      }
    });
    return [settings, h('div', { class: 'row danger-zone' }, del), delLine];
  };

  // Services
  const services = Array.isArray(provider.services) ? provider.services : [];
  const addServiceForm = () => {
    const addLine = resultLine();
    const addBtn = h('button', { class: 'btn', type: 'submit' }, 'Add service');
    const addForm = h('form', { class: 'form', 'aria-label': `Add service to ${provider.name}`, novalidate: true }, h('div', { class: 'fields' }, serviceFields()), h('div', { class: 'row' }, addBtn), addLine);
    addForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const out = await submitForm(addForm, addBtn, addLine, () => api(`${PROVIDERS}/${pid(provider.id)}/services`, { method: 'POST', body: serviceBody(addForm) }));
      if (out.ok) replaceWithFresh('Updated');
    });
    return addForm;
  };
  const serviceCards = services.map((s) => {
    const editForm = () => {
      const line = resultLine();
      const saveSvc = h('button', { class: 'btn primary', type: 'submit' }, 'Save service');
      const delSvc = h('button', { class: 'btn danger', type: 'button' }, 'Delete service');
      const form = h('form', { class: 'form', 'aria-label': `Edit service ${s.name}`, novalidate: true }, h('div', { class: 'fields' }, serviceFields(s)), h('div', { class: 'row' }, saveSvc, delSvc), line);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const out = await submitForm(form, saveSvc, line, () => api(`${PROVIDERS}/${pid(provider.id)}/services/${pid(s.id)}`, { method: 'PATCH', body: serviceBody(form, s) }));
        if (out.ok) replaceWithFresh('Updated');
      });
      delSvc.addEventListener('click', async () => {
        if (!window.confirm(`Delete service ${s.name} (${s.id})?`)) return;
        const out = await submitForm(null, delSvc, line, () => api(`${PROVIDERS}/${pid(provider.id)}/services/${pid(s.id)}`, { method: 'DELETE' }));
        if (out.ok) replaceWithFresh('Updated');
      });
      return form;
    };
    return h('article', { class: 'service', 'data-service-id': s.id },
      h('header', { class: 'row spread' }, h('div', {}, h('h4', { text: s.name }), h('p', { class: 'muted small mono', text: s.id })), h('div', { class: 'chips' }, badge(s.status, 'Status'), badge(s.healthStatus, 'Health'))),
      serviceInsights(s),
      lazyDetails({}, 'Edit service', editForm));
  });

  add(panel,
    panelResult,
    wallet,
    h('div', { class: 'sub' }, h('h3', { text: 'Provider orders' }), h('p', { class: 'muted small', text: 'Track downstream engagements and issue refills.' }), orders),
    followups,
    lazyDetails({ class: 'sub' }, 'Provider settings', settingsBlock),
    h('div', { class: 'sub' },
      h('div', { class: 'row spread' }, h('h3', { text: 'Services' }), h('span', { class: 'muted small', text: `${services.length} registered` })),
      services.length ? serviceCards : empty('No services registered for this provider.'),
      lazyDetails({}, 'Add new service', addServiceForm)));
  return loaded;
}

// ---- the page ------------------------------------------------------------------------------

function registerSection(onCreated) {
  const build = () => {
    const line = resultLine();
    const button = h('button', { class: 'btn primary', type: 'submit' }, 'Create provider');
    const form = h('form', { class: 'form', id: 'create-provider', 'aria-label': 'Register new provider', novalidate: true }, h('div', { class: 'fields' }, providerFields()), h('div', { class: 'row' }, button), line);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const out = await submitForm(form, button, line, () => api(`${PROVIDERS}/`, { method: 'POST', body: providerBody(form) }));
      if (out.ok) {
        form.reset();
        showResult(line, true, 'Updated');
        onCreated(out.value);
      }
    });
    return form;
  };
  return section('register', 'Catalog', 'Register new provider', 'Persist a new fulfillment provider, including allowed regions, credentials, and default status.', lazyDetails({ class: 'plain-details' }, 'Open the registration form', build));
}

// The detail route's automation tab: guardrail status, follow-up telemetry, the follow-up
// timeline (from the follow-up API) and the "Record follow-up" form.
function automationSection(providerId, provider) {
  const statusSlot = h('div', { role: 'status', 'aria-live': 'polite' }, h('p', { class: 'muted', text: 'Loading guardrail status…' }));
  const telemetrySlot = h('div', {});
  const show = (data) => {
    fill(statusSlot, statusLine(data?.status));
    fill(telemetrySlot, telemetryBox(data?.providerTelemetry));
  };
  let first = true;
  const timeline = followupTimeline(providerId, {
    heading: 'h3',
    onPage: (data) => {
      if (first) show(data);
      first = false;
    },
  });
  const form = recordForm(providerId, provider?.name || null, (answer) => {
    timeline.prepend(answer.entry);
    show(answer);
  });
  const body = h('div', {}, statusSlot, telemetrySlot, timeline,
    h('div', { class: 'sub' }, h('h3', { text: 'Record follow-up' }), form));
  const sec = section('automation', 'Automation', 'Guardrail follow-ups', `Follow-ups logged for ${provider?.name || providerId}: escalations, pauses and resumes by operators and the alert worker.`, body);
  sec.ready = timeline.load().then(() => {
    if (first) fill(statusSlot, errorLine('Guardrail status unavailable.'));
  });
  return sec;
}

export default async function render(main, route) {
  const q = params();
  const detailId = route.providerId || null;
  const filterId = detailId || q.get('providerId') || null;
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/admin/orders', text: 'Control hub' }), ' › ', h('a', { href: '/admin/fulfillment/providers', text: 'Fulfillment' }), ' › ',
    detailId ? [h('a', { href: '/admin/fulfillment/providers', text: 'Provider catalog' }), ' › ', h('span', { 'aria-current': 'page', text: detailId })] : h('span', { 'aria-current': 'page', text: 'Provider catalog' }));

  // The cohort metrics can be slow on a large history: the page renders without them and the
  // cohort section fills in when they arrive.
  const bpPromise = detailId ? null : loadBlueprint(30);
  const statusPanel = automationStatusPanel(); // starts loading now, in parallel
  const [prov] = await settle([api(`${PROVIDERS}/`)]);
  const cohortSlot = h('div', { id: 'cohort-slot' }, section('cohort', 'Provider cohort pulse', 'Preset-driven provider load', null, h('p', { class: 'muted', text: 'Loading cohort metrics…' })));
  const cohortReady = bpPromise ? bpPromise.then((bp) => fill(cohortSlot, cohortSection(bp, { providerId: filterId }))) : Promise.resolve();
  const catalogBody = h('div', { class: 'catalog' });
  const catalog = section('catalog', 'Catalog', 'Provider catalog', 'Review persisted providers, update operational status, and manage individual fulfillment services.', catalogBody);
  let providers = prov.ok && Array.isArray(prov.value) ? prov.value : [];

  const ctx = { detail: Boolean(detailId), onDeleted: (id) => { providers = providers.filter((p) => p.id !== id); } };
  function renderCatalog() {
    if (!prov.ok) return fill(catalogBody, errorLine(`Providers unavailable: ${prov.error.message}`));
    const shown = filterId ? providers.filter((p) => p.id === filterId) : providers;
    fill(catalogBody, 
      filterId && !detailId ? h('p', { class: 'notice' }, `Showing provider ${filterId}. `, h('a', { href: '/admin/fulfillment/providers', text: 'Show all providers' })) : null,
      shown.length ? shown.map((p, i) => providerPanel(p, ctx, Boolean(filterId) || i < OPEN_BY_DEFAULT))
        : empty(filterId ? `No provider ${filterId} is registered.` : 'No providers have been registered yet.'));
  }
  renderCatalog();
  document.addEventListener('automation:run', () => catalogBody.querySelectorAll('details.provider').forEach((p) => p.reloadOrders?.()));

  let automation = null;
  if (detailId) {
    const p = providers.find((x) => x.id === detailId);
    document.title = `${p ? p.name : detailId} · Provider · smplat admin`;
    automation = automationSection(detailId, p);
    fill(main, crumbs, h('h1', { text: p ? p.name : detailId }), catalog, automation, statusPanel);
    if (q.get('tab') === 'automation') automation.ready.then(() => document.getElementById('automation')?.scrollIntoView());
  } else {
    fill(main, crumbs, h('h1', {}, 'Provider catalog'), cohortSlot, statusPanel,
      registerSection((created) => {
        providers = [...providers, created].sort((a, b) => a.name.localeCompare(b.name));
        renderCatalog();
      }),
      catalog);
    if (filterId) document.getElementById(`provider-${filterId}`)?.scrollIntoView();
  }
  await Promise.all([statusPanel.ready, cohortReady, automation?.ready, ...[...catalogBody.querySelectorAll('details.provider')].map((p) => p.ready)]);
}
