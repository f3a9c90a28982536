// /admin/orders (spec §9.6): provider automation insights, cohort load alerts, the automation
// status panel, the order queue from GET /api/v1/orders (newest first, 50 a page with "Load
// more"; ?status=, ?presetId= and ?providerId= filter it on the server, DECISIONS 18) and the
// selected order's provider automation and timeline. Without any order the page is only the
// empty hero.
import { api, apiPage, settle, PROVIDERS } from './api.js';
import { h, section, empty, errorLine, chip, stat, isObj, fmtTime, int, money, params, fill, add, busy } from './dom.js';
import { automationStatusPanel } from './status-panel.js';
import { providerOrderCard, summarizeTelemetry, telemetryPanel } from './order-card.js';
import { loadBlueprint, loadAlerts, loadAlertList, blueprintProblem } from './cohort.js';

const PAGE_SIZE = 50; // orders per queue page (spec §9.6 "orders (50)")
const EMPTY_HERO = 'No orders yet. As soon as customers complete checkout, new orders will appear here.';

const EVENT_LABELS = {
  replay_scheduled: 'Automation replay scheduled',
  replay_executed: 'Automation replay executed',
  refill_requested: 'Refill requested',
  refill_completed: 'Refill completed',
  automation_alert: 'Automation alert',
  state_change: 'Status changed',
  note: 'Note',
  refund_requested: 'Refund requested',
  refund_completed: 'Refund completed',
};

// The presets of an order's items ({id, label}), each once, under presetId or preset_id.
function presetsOf(order) {
  const out = new Map();
  for (const item of Array.isArray(order?.items) ? order.items : []) {
    const so = isObj(item.selectedOptions) ? item.selectedOptions : null;
    const id = so ? so.presetId ?? so.preset_id : null;
    if (id !== undefined && id !== null && id !== '' && !out.has(String(id))) out.set(String(id), { id: String(id), label: so.presetLabel || so.preset_label || null });
  }
  return [...out.values()];
}

// One row of the queue: number, status, total, created time, items and presets.
function queueRow(order, selectedId, link) {
  const n = Array.isArray(order.items) ? order.items.length : 0;
  const presets = presetsOf(order);
  const selected = order.id === selectedId;
  return h('li', { class: `queue-item ${selected ? 'selected' : ''}`.trim(), 'data-order-id': order.id },
    h('div', { class: 'row spread' },
      h('a', { href: link(order.id), 'aria-current': selected ? 'true' : null }, h('strong', { text: order.orderNumber ?? order.id.slice(0, 8) })),
      chip(order.status ?? 'unknown', 'tag')),
    h('p', { class: 'small' },
      h('span', { 'data-testid': 'order-total', text: money(order.total, order.currency) }),
      h('span', { class: 'muted', text: ` · ${fmtTime(order.createdAt) || '—'} · ${n} item${n === 1 ? '' : 's'}` }),
      presets.length ? h('span', { class: 'muted', 'data-testid': 'order-presets', text: ` · preset ${presets.map((p) => p.label ?? p.id).join(', ')}` }) : null));
}

function insightsSection(snapshot, bp, highlight) {
  const agg = snapshot.aggregated || {};
  const providers = Array.isArray(snapshot.providers) ? snapshot.providers : [];
  const risk = (t) => 2 * (t?.guardrails?.fail || 0) + (t?.guardrails?.warn || 0);
  const top = providers.filter((p) => risk(p.telemetry) > 0).sort((a, b) => risk(b.telemetry) - risk(a.telemetry)).slice(0, 4);
  const services = [];
  for (const p of providers) {
    const t = p.telemetry || {};
    const keys = new Set([...Object.keys(t.guardrailHitsByService || {}), ...Object.keys(t.ruleOverridesByService || {})]);
    for (const k of keys) {
      const g = t.guardrailHitsByService?.[k] || { fail: 0, warn: 0 };
      const o = t.ruleOverridesByService?.[k] || { totalOverrides: 0, rules: {} };
      const topRule = Object.values(o.rules || {}).sort((a, b) => b.count - a.count)[0];
      services.push({ provider: p.name ?? p.id, service: k, fail: g.fail || 0, warn: g.warn || 0, incidents: 2 * (g.fail || 0) + (g.warn || 0), overrides: o.totalOverrides || 0, topRule });
    }
  }
  services.sort((a, b) => b.incidents - a.incidents || b.overrides - a.overrides);
  return section('insights', 'Automation', 'Provider automation insights', 'Replay cadence, pending scheduled runs, and guardrail posture aggregated across the provider catalog.',
    h('div', { class: 'grid stats' }, stat('Provider orders', int(agg.totalOrders)), stat('Replays executed', int(agg.replays?.executed)), stat('Replays failed', int(agg.replays?.failed)), stat('Scheduled pending', int(agg.replays?.scheduled))),
    h('div', { class: 'chips' }, chip(`Breached: ${agg.guardrails?.fail ?? 0}`, 'bad'), chip(`Warning: ${agg.guardrails?.warn ?? 0}`, 'warn'), chip(`Healthy: ${agg.guardrails?.pass ?? 0}`, 'good')),
    h('div', { class: 'grid two' },
      h('div', { class: 'tile', id: 'cohort-load-alerts' }, h('h3', { text: 'Cohort load alerts' }), blueprintProblem(bp),
        loadAlertList(loadAlerts(bp), 'No presets are overloading a single provider in the latest cohorts.', highlight)),
      h('div', { class: 'tile' }, h('h3', { text: 'Top providers by guardrail alerts' }),
        top.length ? h('ul', { class: 'plain' }, top.map((p) => h('li', { class: 'entry' }, h('div', { class: 'row spread' }, h('strong', { text: p.name ?? p.id }), h('span', { class: 'small', text: `${int(p.telemetry.totalOrders)} orders` })),
          h('p', { class: 'muted small', text: `${p.telemetry.guardrails.fail} breaches · ${p.telemetry.guardrails.warn} warnings · ${p.telemetry.replays.failed} failed replays` }))))
          : empty('No guardrail alerts across providers.'))),
    h('div', {}, h('h3', { text: 'Guardrail vs rule overrides' }), h('p', { class: 'muted small', text: 'Spot services where breaches outpace automation overrides.' }),
      services.length ? h('div', { class: 'grid cards' }, services.slice(0, 4).map((s) => {
        const attention = s.incidents > s.overrides && s.incidents > 0;
        return h('div', { class: `mini ${attention ? 'attention' : ''}`.trim() },
          h('div', { class: 'row spread' }, h('strong', { text: s.provider }), attention ? chip('Attention', 'bad') : null),
          h('p', { class: 'muted small mono', text: s.service }),
          h('p', { class: 'small', text: `Guardrail hits ${s.fail + s.warn} (${s.fail} fail · ${s.warn} warn)` }),
          h('p', { class: 'small', text: `Rule overrides ${s.overrides} · ${s.topRule ? `Top: ${s.topRule.label ?? s.topRule.id}` : s.overrides ? 'Recorded' : 'None recorded'}` }),
          attention ? h('p', { class: 'small bad-text', text: 'Breaches exceed overrides — adjust guardrails or replay cadence.' }) : null);
      })) : empty('No guardrail evaluations or rule overrides recorded.')));
}

function timeline(events) {
  if (!events.length) return empty('No timeline events recorded for this order.');
  return h('ol', { class: 'timeline' }, events.map((e) => {
    const m = isObj(e.metadata) ? e.metadata : {};
    const auto = ['replay_scheduled', 'replay_executed', 'refill_requested', 'refill_completed', 'automation_alert'].includes(e.eventType) || e.actorType === 'automation';
    const lines = [
      m.status ? `Status: ${m.status}` : null,
      m.scheduledFor ? `Scheduled for: ${fmtTime(m.scheduledFor) || m.scheduledFor}` : null,
      m.performedAt ? `Performed: ${fmtTime(m.performedAt) || m.performedAt}` : null,
      m.trigger ? `Source: ${String(m.trigger).replaceAll('_', ' ')}` : null,
      `Actor: ${e.actorLabel ?? e.actorType ?? 'system'}`,
    ].filter(Boolean);
    return h('li', { class: 'event', 'data-event-type': e.eventType },
      h('div', { class: 'row spread' }, h('strong', { text: EVENT_LABELS[e.eventType] || e.eventType }), auto ? chip('Automation', 'tag') : null),
      h('p', { class: 'muted small', text: fmtTime(e.createdAt) || '' }),
      e.notes ? h('p', { class: 'small', text: e.notes }) : null,
      e.fromStatus || e.toStatus ? h('p', { class: 'small', text: `${e.fromStatus ?? '—'} → ${e.toStatus ?? '—'}` }) : null,
      h('p', { class: 'small muted', text: lines.join(' · ') }));
  }));
}

async function orderDetail(orderId) {
  const body = h('div', {}, h('p', { class: 'muted', text: 'Loading order…' }));
  const root = h('section', { class: 'card section', id: 'order-detail', 'aria-labelledby': 'order-detail-title' },
    h('h2', { id: 'order-detail-title', text: `Order ${orderId.slice(0, 8)}` }), body);
  const reload = async (order) => {
    const list = await api(`${PROVIDERS}/orders/by-order/${encodeURIComponent(orderId)}`);
    return (list || []).find((o) => o.id === order.id) || null;
  };
  const [pos, events, order] = await settle([
    api(`${PROVIDERS}/orders/by-order/${encodeURIComponent(orderId)}`),
    api(`/api/v1/orders/${encodeURIComponent(orderId)}/state-events`),
    api(`/api/v1/orders/${encodeURIComponent(orderId)}`),
  ]);
  if (order.ok && order.value) root.querySelector('h2').textContent = `Order ${order.value.orderNumber ?? orderId.slice(0, 8)} · ${order.value.status ?? ''}`;
  const list = pos.ok && Array.isArray(pos.value) ? pos.value : [];
  let automation;
  if (!pos.ok) automation = errorLine(`Provider orders unavailable: ${pos.error.message}`);
  else if (!list.length) automation = empty('This order has no provider orders.');
  else {
    const t = summarizeTelemetry(list);
    const actions = Object.fromEntries(list.map((o) => [o.serviceId || o.providerId || 'unknown', o.serviceAction]));
    automation = h('div', { 'data-testid': 'admin-provider-automation' },
      h('h3', { text: 'Provider automation' }),
      h('div', { class: 'grid stats' }, stat('Provider orders', t.totalOrders), stat('Replays executed', t.replays.executed), stat('Replays failed', t.replays.failed), stat('Scheduled pending', t.replays.scheduled)),
      h('div', { class: 'chips' }, chip(`Breached: ${t.guardrails.fail}`, 'bad'), chip(`Warning: ${t.guardrails.warn}`, 'warn'), chip(`Healthy: ${t.guardrails.pass}`, 'good')),
      h('h4', { text: 'Service-level signals' }),
      telemetryPanel(t, { serviceLabel: (k) => (actions[k] ? `${k} · ${actions[k]}` : k) }),
      h('div', { class: 'order-list' }, list.map((o) => providerOrderCard(o, { reload }))));
  }
  fill(body, automation,
    h('h3', { text: 'Order timeline' }),
    events.ok ? timeline(Array.isArray(events.value) ? events.value : []) : errorLine(`Timeline unavailable: ${events.error.message}`));
  return root;
}

export default async function render(main) {
  const q = params();
  const filters = { status: q.get('status'), presetId: q.get('presetId'), providerId: q.get('providerId') };
  for (const k of Object.keys(filters)) if (!filters[k]) delete filters[k];
  const filtered = Object.keys(filters).length > 0;
  const highlight = { presetId: filters.presetId || null, providerId: filters.providerId || null };
  const listPath = (cursor) => {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE), ...filters });
    if (cursor) p.set('cursor', cursor);
    return `/api/v1/orders?${p}`;
  };

  const [first, snap, bp] = await Promise.all([
    settle([apiPage(listPath(null))]).then((r) => r[0]),
    settle([api(`${PROVIDERS}/automation/snapshot?limitPerProvider=20`)]).then((r) => r[0]),
    loadBlueprint(30),
  ]);
  const orders = first.ok && Array.isArray(first.value.data) ? first.value.data : [];

  // Spec §9.6: no orders at all means the empty hero and nothing else.
  if (first.ok && !orders.length && !filtered) {
    fill(main, h('h1', { text: 'Orders' }),
      h('section', { class: 'card section hero', 'data-testid': 'orders-empty' }, h('p', { class: 'empty', text: EMPTY_HERO })));
    return;
  }

  const selectedId = q.get('orderId') || (orders[0] && orders[0].id) || null;
  const detailPromise = selectedId ? orderDetail(selectedId) : null; // fetched while the rest renders
  const link = (orderId) => {
    const p = new URLSearchParams(q);
    p.set('orderId', orderId);
    return `/admin/orders?${p}`;
  };
  const described = [
    filters.presetId ? `preset ${filters.presetId}` : null,
    filters.providerId ? `provider ${filters.providerId}` : null,
    filters.status ? `status ${filters.status}` : null,
  ].filter(Boolean);
  const notice = filtered
    ? h('p', { class: 'notice', 'data-testid': 'order-filter' }, `Filtered by ${described.join(' and ')}. `, h('a', { href: '/admin/orders', 'data-testid': 'clear-filters', text: 'Clear filters' }))
    : null;

  const list = h('ul', { class: 'plain queue' }, orders.map((o) => queueRow(o, selectedId, link)));
  let next = first.ok ? first.value.next : null;
  const moreLine = h('p', { class: 'result', role: 'status', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'btn', 'data-testid': 'load-more', text: 'Load more' });
  const moreRow = h('div', { class: 'row' }, more);
  more.hidden = moreRow.hidden = !next;
  more.addEventListener('click', () => busy(more, async () => {
    try {
      const page = await apiPage(listPath(next));
      add(list, (page.data || []).map((o) => queueRow(o, selectedId, link)));
      next = page.next;
      moreLine.textContent = '';
    } catch (err) {
      moreLine.textContent = `Could not load more orders: ${err.message}`;
    }
  }).then(() => { more.hidden = moreRow.hidden = !next; }));

  let body;
  if (!first.ok) body = errorLine(`Orders unavailable: ${first.error.message}`);
  else if (!orders.length) body = empty('No orders match these filters.');
  else body = [list, moreRow, moreLine];
  const queueSection = section('order-queue', 'Orders', 'Order queue', 'Newest orders first.', notice, body);

  // The queue and the selected order side by side on a wide screen (the queue scrolls on its
  // own), one above the other on a narrow one.
  const statusPanel = automationStatusPanel();
  const bench = h('div', { class: 'workbench' }, queueSection);
  fill(main,
    h('h1', { text: 'Orders' }),
    snap.ok ? insightsSection(snap.value || {}, bp, highlight) : errorLine(`Automation snapshot unavailable: ${snap.error.message}`),
    statusPanel,
    bench);
  if (selectedId) {
    add(bench, await detailPromise);
    list.querySelector('.queue-item.selected')?.scrollIntoView({ block: 'nearest' });
  }
  await statusPanel.ready;
}
