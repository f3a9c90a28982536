// /admin/reports (spec §9.7): the provider guardrail snapshot, the replay + alert run history
// and a chart of runs over time (replays processed and failed, alerts sent).
import { api, settle, PROVIDERS } from './api.js';
import { h, svg, section, empty, errorLine, stat, isObj, num, fmtTime, int, fill } from './dom.js';
import { automationStatusPanel, collectAutoActions, actionChip, workflowTelemetry, telemetryInsight } from './status-panel.js';

function snapshotSection(snap) {
  const agg = snap.aggregated || {};
  const providers = (Array.isArray(snap.providers) ? snap.providers : []).slice()
    .sort((a, b) => (b.telemetry?.guardrails?.fail || 0) - (a.telemetry?.guardrails?.fail || 0) || (b.telemetry?.guardrails?.warn || 0) - (a.telemetry?.guardrails?.warn || 0));
  return section('snapshot', 'Automation health', 'Provider guardrail snapshot', 'Live telemetry from /api/v1/fulfillment/providers/automation/snapshot summarizing guardrail posture and replay success.',
    h('p', { class: 'muted small', text: `${providers.length} providers` }),
    h('div', { class: 'grid stats' }, stat('Total orders', int(agg.totalOrders)), stat('Guardrail warn/fail', `${agg.guardrails?.warn ?? 0} / ${agg.guardrails?.fail ?? 0}`), stat('Replay failures', `${agg.replays?.failed ?? 0} / ${agg.replays?.total ?? 0}`)),
    providers.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { class: 'sr-only', text: 'Top providers by guardrail failures' }),
        h('thead', {}, h('tr', {}, ['Provider', 'Orders', 'Guardrail warn/fail', 'Replay failures'].map((c) => h('th', { scope: 'col', text: c })))),
        h('tbody', {}, providers.slice(0, 5).map((p) => h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: `/admin/fulfillment/providers/${encodeURIComponent(p.id)}`, text: p.name ?? p.id }), h('span', { class: 'muted small mono', text: ` ${p.id}` })),
          h('td', { text: int(p.telemetry?.totalOrders) }),
          h('td', { text: `${p.telemetry?.guardrails?.warn ?? 0} / ${p.telemetry?.guardrails?.fail ?? 0}` }),
          h('td', { text: `${p.telemetry?.replays?.failed ?? 0} / ${p.telemetry?.replays?.total ?? 0}` }))))))
      : empty('No providers registered yet.'));
}

function names(list) {
  const n = list.map((a) => a.providerName).filter(Boolean);
  return n.slice(0, 2).join(', ') + (list.length > 2 ? ' +' : '');
}

function summaryLine(kind, s) {
  if (!isObj(s)) return kind === 'alerts' ? 'No alerts dispatched.' : 'No replays recorded.';
  const n = (v) => num(v) ?? 0;
  if (kind === 'replay') return `Replays processed: ${n(s.processed)} · Success: ${n(s.succeeded)} · Failed: ${n(s.failed)}`;
  let line = `Alerts sent: ${n(s.alertsSent)} · Load alerts: ${n(s.loadAlerts)}`;
  const paused = Array.isArray(s.autoPausedProviders) ? s.autoPausedProviders.filter(isObj) : [];
  const resumed = Array.isArray(s.autoResumedProviders) ? s.autoResumedProviders.filter(isObj) : [];
  if (paused.length) line += ` · Auto-paused: ${paused.length} (${names(paused)})`;
  if (resumed.length) line += ` · Auto-resumed: ${resumed.length} (${names(resumed)})`;
  return line;
}

function historySection(history) {
  const entries = [...(history.alerts || []).map((e) => ({ kind: 'alerts', e })), ...(history.replay || []).map((e) => ({ kind: 'replay', e }))]
    .sort((a, b) => (String(a.e.ranAt) < String(b.e.ranAt) ? 1 : -1)).slice(0, 8);
  if (!entries.length) return section('run-history', 'Automation runs', 'Replay + alert history', 'Latest invocations of provider replay + alert workers with summary stats.', empty('No automation runs recorded yet.'));
  return section('run-history', 'Automation runs', 'Replay + alert history', 'Latest invocations of provider replay + alert workers with summary stats.',
    h('ul', { class: 'plain runs' }, entries.map(({ kind, e }) => {
      const actions = kind === 'alerts' ? (collectAutoActions(e, true).length ? collectAutoActions(e, true) : collectAutoActions(e)) : [];
      const t = kind === 'alerts' ? workflowTelemetry(e.metadata) || workflowTelemetry(e.summary) : null;
      return h('li', { class: 'entry', 'data-kind': kind },
        h('div', { class: 'row spread' }, h('strong', { text: kind === 'alerts' ? 'Alert worker' : 'Replay worker' }), h('span', { class: 'muted small', text: fmtTime(e.ranAt) || String(e.ranAt) })),
        h('p', { class: 'small', text: summaryLine(kind, e.summary) }),
        actions.length ? h('div', {}, h('p', { class: 'eyebrow', text: 'Auto guardrail actions' }), h('div', { class: 'chips' }, actions.slice(0, 6).map(actionChip))) : null,
        t ? telemetryInsight(t) : null);
    })));
}

// Grouped bars per run, oldest left: replays processed, replays failed, alerts sent.
function runsChart(history) {
  const runs = [...(history.replay || []).map((e) => ({ at: e.ranAt, processed: num(e.summary?.processed) ?? 0, failed: num(e.summary?.failed) ?? 0, alerts: 0 })),
    ...(history.alerts || []).map((e) => ({ at: e.ranAt, processed: 0, failed: 0, alerts: num(e.summary?.alertsSent) ?? 0 }))]
    .filter((r) => fmtTime(r.at)).sort((a, b) => (a.at < b.at ? -1 : 1)).slice(-30);
  if (!runs.length) return empty('No runs to chart yet.');
  const W = 720, H = 220, pad = { l: 36, r: 8, t: 10, b: 40 };
  const max = Math.max(1, ...runs.flatMap((r) => [r.processed, r.failed, r.alerts]));
  const slot = (W - pad.l - pad.r) / runs.length;
  const bw = Math.max(2, Math.min(14, (slot - 4) / 3));
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const series = [['processed', 'bar-processed'], ['failed', 'bar-failed'], ['alerts', 'bar-alerts']];
  const bars = runs.flatMap((r, i) => series.map(([k, cls], j) => {
    const x = pad.l + i * slot + (slot - 3 * bw) / 2 + j * bw;
    const v = r[k];
    return svg('rect', { class: cls, x: x.toFixed(1), y: Math.min(y(v), H - pad.b - 1).toFixed(1), width: (bw - 1).toFixed(1), height: Math.max(1, H - pad.b - y(v)).toFixed(1) }, svg('title', {}, `${fmtTime(r.at)} · ${k}: ${v}`));
  }));
  const ticks = [0, Math.round(max / 2), max].map((v) => [svg('line', { class: 'grid-line', x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }), svg('text', { class: 'axis', x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v))]);
  const labels = [runs[0], runs[runs.length - 1]].map((r, i) => svg('text', { class: 'axis', x: i ? W - pad.r : pad.l, y: H - pad.b + 16, 'text-anchor': i ? 'end' : 'start' }, fmtTime(r.at)));
  const totals = runs.reduce((t, r) => ({ processed: t.processed + r.processed, failed: t.failed + r.failed, alerts: t.alerts + r.alerts }), { processed: 0, failed: 0, alerts: 0 });
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'runs-chart-caption' }, ticks, bars, labels),
    h('figcaption', { id: 'runs-chart-caption' },
      h('span', { class: 'key key-processed' }, 'Replays processed'), ' ', h('span', { class: 'key key-failed' }, 'Replays failed'), ' ', h('span', { class: 'key key-alerts' }, 'Alerts sent'),
      h('span', { class: 'muted small', text: ` · ${runs.length} runs: ${totals.processed} processed, ${totals.failed} failed, ${totals.alerts} alerts sent` })));
}

export default async function render(main) {
  const [snap, hist, chartHist] = await settle([
    api(`${PROVIDERS}/automation/snapshot?limitPerProvider=25`),
    api(`${PROVIDERS}/automation/status/history?limit=8`),
    api(`${PROVIDERS}/automation/status/history?limit=50`),
  ]);
  const statusPanel = automationStatusPanel();
  fill(main, h('h1', { text: 'Reports' }),
    snap.ok ? snapshotSection(snap.value || {}) : errorLine(`Automation snapshot unavailable: ${snap.error.message}`),
    section('runs-chart', 'Automation runs', 'Runs over time', 'Replays processed and failed per replay run, alerts sent per alert run (latest 50 of each).',
      chartHist.ok ? runsChart(chartHist.value || {}) : errorLine(`Run history unavailable: ${chartHist.error.message}`)),
    hist.ok ? historySection(hist.value || {}) : errorLine(`Run history unavailable: ${hist.error.message}`),
    statusPanel);
  await statusPanel.ready;
}
