// /admin/merchandising (spec §9.8, provider-load parts): cohort load alerts, risky presets,
// the provider automation pulse; ?presetId= highlights the preset (DECISIONS 18).
import { h, section, empty, chip, isObj, num, pct, int, money, params, fill } from './dom.js';
import { automationStatusPanel } from './status-panel.js';
import { loadBlueprint, loadAlerts, blueprintProblem } from './cohort.js';

export default async function render(main) {
  const presetId = params().get('presetId') || null;
  const [bp30, bp90] = await Promise.all([loadBlueprint(30), loadBlueprint(90)]);
  const alerts = loadAlerts(bp30);
  const hit = (id) => presetId && String(id) === presetId;

  const alertCard = h('div', { class: 'tile', id: 'merch-load-alerts' }, h('h3', { text: 'Cohort load alerts' }), h('p', { class: 'muted small', text: 'Presets leaning on a single provider' }),
    blueprintProblem(bp30),
    alerts.length ? h('ul', { class: 'plain' }, alerts.slice(0, 4).map((a) => h('li', { class: `entry ${hit(a.presetId) ? 'highlight' : ''}`.trim(), 'data-preset-id': a.presetId ?? '' },
      h('strong', { text: a.providerName ?? a.providerId ?? 'Provider' }),
      h('p', { class: 'small', text: `${pct(num(a.shortShare))} of ${a.presetLabel ?? a.presetId ?? 'Preset'}` }),
      h('p', { class: 'muted small', text: `${a.shortWindowDays ?? '—'}d vs ${a.longWindowDays ?? '—'}d · Δ ${pct(num(a.shareDelta))}` }))))
      : empty('No cohort imbalances detected.'));

  const presets = Array.isArray(bp30.value.presets) ? bp30.value.presets.filter(isObj) : [];
  const presetCard = h('div', { class: 'tile', id: 'preset-pulse' }, h('h3', { text: 'Preset pulse' }), h('p', { class: 'muted small', text: 'Presets selected in the last 30 days.' }),
    presets.length ? h('ul', { class: 'plain' }, presets.slice(0, 8).map((p) => h('li', { class: `entry row spread ${hit(p.presetId) ? 'highlight' : ''}`.trim(), 'data-preset-id': p.presetId ?? '', 'aria-current': hit(p.presetId) ? 'true' : null },
      h('strong', { text: p.label ?? p.presetId }), h('span', { class: 'small', text: `${int(p.selections)} selections` }))))
      : empty('No preset selections recorded in the last 30 days.'));

  const riskyCard = h('div', { class: 'tile' }, h('h3', { text: 'Risky presets' }), h('p', { class: 'muted small', text: 'High clear-rate presets need follow-up.' }), empty('No presets are at risk.'));

  const w90 = bp90.value.presetProviderEngagements?.windows?.['90'];
  const days = isObj(w90) && w90.days ? w90.days : 90;
  const engagements = Array.isArray(bp90.value.providerEngagements) ? bp90.value.providerEngagements.filter(isObj) : [];
  const topEng = engagements[0];
  const pulse = h('div', { class: 'tile', id: 'automation-pulse' },
    h('div', { class: 'row spread' }, h('h3', { text: 'Provider automation pulse' }), chip(`${days}-day baseline`, 'tag')),
    topEng ? h('div', {},
      h('p', {}, h('strong', { text: topEng.providerName ?? topEng.providerId }), h('span', { class: 'muted small', text: ` ${topEng.serviceAction ?? topEng.serviceId ?? ''}` })),
      h('dl', { class: 'summary' }, h('dt', { text: 'Engagements' }), h('dd', { text: int(topEng.engagements) }), h('dt', { text: 'Amount processed' }), h('dd', { text: money(topEng.amountTotal, 'USD', 0) })),
      h('p', { class: 'muted small', text: 'Keep this service within guardrails—run provider automation status or replay jobs if engagements spike.' }))
      : empty(`No provider engagements recorded in the last ${days} days. Automation signals will appear here once fulfillment traffic resumes.`),
    h('a', { class: 'pill', href: '/admin/fulfillment/providers', text: 'Review' }));

  const statusPanel = automationStatusPanel();
  fill(main, h('h1', { text: 'Merchandising' }),
    presetId ? h('p', { class: 'notice', 'data-testid': 'preset-filter' }, `Highlighting preset ${presetId}. `, h('a', { href: '/admin/merchandising', text: 'Clear' })) : null,
    section('merch-cohorts', 'Merchandising', 'Preset load and risk', 'Provider-load and preset-risk signals for merchandising.', h('div', { class: 'grid two' }, alertCard, presetCard, riskyCard, pulse)),
    statusPanel);
  await statusPanel.ready;
}
