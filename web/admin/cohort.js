// Preset cohort blocks fed by GET /api/v1/reporting/blueprint-metrics (spec §9.4 A, §9.6,
// §9.8): the 7/30/90-day preset → provider windows and the provider load alerts. When the
// endpoint fails (not there yet, 401, 5xx) the pages show why and then the empty states.
import { api } from './api.js';
import { h, isObj, num, pct, int, money, fmtHM, fmtMonthDay, linkPills, empty, errorLine, section } from './dom.js';

export async function loadBlueprint(days = 30) {
  try {
    const value = await api(`/api/v1/reporting/blueprint-metrics?window_days=${days}`);
    return { ok: true, value: isObj(value) ? value : {} };
  } catch (error) {
    return { ok: false, error, value: {} };
  }
}

export function blueprintProblem(bp) {
  return bp.ok ? null : errorLine(`Cohort metrics unavailable: ${bp.error.message}. Showing no cohort data.`);
}

export const loadAlerts = (bp) => (Array.isArray(bp.value.providerLoadAlerts) ? bp.value.providerLoadAlerts.filter(isObj) : []);

export function windowOf(bp, days) {
  const w = bp.value.presetProviderEngagements?.windows?.[String(days)];
  return isObj(w) ? w : null;
}

// A load alert as in the catalog and the orders callout.
export function loadAlertItem(a, highlight = {}) {
  const hit = (highlight.presetId && String(a.presetId) === highlight.presetId) || (highlight.providerId && a.providerId === highlight.providerId);
  return h('li', { class: `alert-item ${hit ? 'highlight' : ''}`.trim(), 'data-provider-id': a.providerId ?? '', 'data-preset-id': a.presetId ?? '' },
    h('div', { class: 'row spread' }, h('strong', { text: a.providerName ?? a.providerId ?? 'Provider' }), h('span', { class: 'chip warn', text: pct(num(a.shortShare)) })),
    h('p', { class: 'small', text: a.presetLabel ?? a.presetId ?? 'Preset' }),
    h('p', { class: 'muted small', text: `${a.shortWindowDays ?? '—'}d vs ${a.longWindowDays ?? '—'}d · Δ ${pct(num(a.shareDelta))} · ${int(a.shortEngagements)} runs` }),
    linkPills(a.links));
}

export function loadAlertList(alerts, emptyText, highlight) {
  return alerts.length ? h('ul', { class: 'plain alerts' }, alerts.slice(0, 4).map((a) => loadAlertItem(a, highlight))) : empty(emptyText);
}

const WINDOWS = [
  [7, '7-day spike', 'Short-term surges vs automation capacity.'],
  [30, '30-day cadence', 'Primary merchandising pulse used by dashboards.'],
  [90, '90-day baseline', 'Historical load to compare against alerts.'],
];

// §9.4 A: "Provider cohort pulse" / "Preset-driven provider load".
export function cohortSection(bp, highlight = {}) {
  const generated = bp.value.presetProviderEngagements?.generatedAt;
  const cards = WINDOWS.map(([days, title, desc]) => {
    const w = windowOf(bp, days);
    const entries = w && Array.isArray(w.entries) ? w.entries.filter(isObj) : [];
    const started = w ? fmtMonthDay(w.start) : null;
    return h('div', { class: 'tile window', 'data-window': days },
      h('h3', { text: title }), h('p', { class: 'muted small', text: desc }),
      h('p', { class: 'small', text: w ? `${w.days ?? days}d · started ${started ?? '—'}` : 'Window pending' }),
      entries.length
        ? h('ul', { class: 'plain' }, entries.slice(0, 4).map((e) => {
          const amount = num(e.amountTotal);
          const hit = (highlight.presetId && String(e.presetId) === highlight.presetId) || (highlight.providerId && e.providerId === highlight.providerId);
          return h('li', { class: `entry ${hit ? 'highlight' : ''}`.trim() },
            h('div', { class: 'row spread' }, h('strong', { text: e.presetLabel ?? e.presetId ?? 'Preset' }), h('span', { class: 'small', text: `${int(e.engagements)} runs` })),
            h('p', { class: 'muted small', text: `${e.providerName ?? e.providerId ?? 'Provider'} · ${pct(num(e.engagementShare))} of preset load` }),
            amount && amount > 0 ? h('p', { class: 'small', text: `${money(amount, e.currency || 'USD', 0)} provider spend` }) : null,
            e.serviceAction ? h('p', { class: 'muted small', text: e.serviceAction }) : null);
        }))
        : empty('No provider engagements recorded for this window.'));
  });
  return section('cohort', 'Provider cohort pulse', 'Preset-driven provider load',
    'Multi-window cohorts highlight which presets are driving automation volume so ops can coordinate with merchandising alerts.',
    blueprintProblem(bp),
    h('p', { class: 'muted small', text: `Updated ${generated ? fmtHM(generated) : '—'}` }),
    h('div', { class: 'grid three' }, cards),
    h('div', { class: 'grid two' },
      h('div', { class: 'tile', id: 'provider-load-alerts' }, h('h3', { text: 'Provider load alerts' }), h('p', { class: 'muted small', text: 'Presets leaning heavily on a single provider.' }),
        loadAlertList(loadAlerts(bp), 'No cohort imbalances detected in the latest windows.', highlight)),
      h('aside', { class: 'tile' }, h('h3', { text: 'Preset risk signals' }), h('p', { class: 'muted small', text: 'Mirrors merchandising alerts so automation triage keeps merchandising context in view.' }),
        empty('No preset risk alerts detected in the last 30 days.'),
        h('p', { class: 'muted small', text: 'Tip: follow the alert → preset pulse link-in-context to jump into /admin/merchandising for remedial actions.' }))));
}
