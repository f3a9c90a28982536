// The automation status panel (spec §9.1): last run per worker, backlog and next scheduled
// run, active alerts, cohort load alerts, auto guardrail actions, recent runs and "Run now".
import { api, settle, PROVIDERS } from './api.js';
import { h, section, empty, errorLine, chip, isObj, isNum, num, fmtTime, linkPills, maskSecrets, busy, showResult, resultLine, int, fill } from './dom.js';

const HIDDEN_SUMMARY_KEYS = new Set(['alertsDigest', 'loadAlertsDigest', 'loadAlerts', 'autoPausedProviders', 'autoResumedProviders', 'scheduledBacklog', 'nextScheduledAt']);

function displayValue(v) {
  if (Array.isArray(v)) return v.map((x) => (isObj(x) ? JSON.stringify(maskSecrets(x)) : String(x))).join(', ');
  if (isObj(v)) return JSON.stringify(maskSecrets(v));
  return String(v);
}

// §9.3: pause actions from metadata.autoPausedProviders (else summary's), then resume actions.
export function collectAutoActions(entry, metadataOnly = false) {
  if (!isObj(entry)) return [];
  const out = [];
  const pick = (key) => {
    const m = isObj(entry.metadata) && Array.isArray(entry.metadata[key]) ? entry.metadata[key] : null;
    if (m) return m;
    if (metadataOnly) return [];
    return isObj(entry.summary) && Array.isArray(entry.summary[key]) ? entry.summary[key] : [];
  };
  for (const [key, action] of [['autoPausedProviders', 'pause'], ['autoResumedProviders', 'resume']]) {
    for (const item of pick(key)) {
      if (!isObj(item)) continue;
      const providerId = typeof item.providerId === 'string' && item.providerId.trim() ? item.providerId.trim() : null;
      const name = (typeof item.providerName === 'string' && item.providerName.trim()) || providerId || 'Provider';
      out.push({
        action,
        providerId,
        providerName: name,
        reasons: (Array.isArray(item.reasons) ? item.reasons : []).map((r) => String(r)).filter((r) => r.trim()),
        notes: typeof item.notes === 'string' ? item.notes : null,
        followUpId: item.followUpId ?? null,
        ranAt: entry.ranAt || item.ranAt || null,
        href: providerId ? `/admin/fulfillment/providers/${encodeURIComponent(providerId)}?tab=automation` : null,
      });
    }
  }
  return out;
}

export function actionChip(a) {
  const title = [a.reasons.join(', '), a.notes, a.ranAt ? `Run: ${fmtTime(a.ranAt) || a.ranAt}` : null].filter(Boolean).join(' • ');
  return h('span', { class: `action-chip ${a.action === 'pause' ? 'bad' : 'good'}`, title: title || null },
    h('strong', { text: a.action === 'pause' ? 'Auto pause' : 'Auto resume' }), ' ', a.providerName,
    a.href ? [' ', h('a', { href: a.href, text: 'Open follow-ups' })] : null);
}

// §9.2: the workflow telemetry summary carried by a run, or null.
export function workflowTelemetry(source) {
  if (!isObj(source)) return null;
  const t = isObj(source.workflowTelemetry) ? source.workflowTelemetry : source;
  if (!isNum(t.totalEvents)) return null;
  const totals = isObj(t.attachmentTotals) ? t.attachmentTotals : {};
  const fin = (v) => (isNum(v) ? v : 0);
  return {
    totalEvents: t.totalEvents,
    lastCapturedAt: typeof t.lastCapturedAt === 'string' && t.lastCapturedAt ? t.lastCapturedAt : null,
    attachmentTotals: { upload: fin(totals.upload), remove: fin(totals.remove), copy: fin(totals.copy), tag: fin(totals.tag) },
    actionCounts: (Array.isArray(t.actionCounts) ? t.actionCounts : []).filter((a) => isObj(a) && typeof a.action === 'string' && isNum(a.count)),
  };
}

export function telemetryInsight(t) {
  const top = t.actionCounts[0];
  return h('div', { class: 'telemetry' },
    h('p', { class: 'eyebrow', text: 'Workflow telemetry' }),
    h('p', {}, `${int(t.totalEvents)} actions`, t.lastCapturedAt ? ` · Last capture ${fmtTime(t.lastCapturedAt) || t.lastCapturedAt}` : ''),
    h('p', { class: 'muted small', text: `Uploads ${t.attachmentTotals.upload} · Removals ${t.attachmentTotals.remove} · Copies ${t.attachmentTotals.copy} · Tagged ${t.attachmentTotals.tag}` }),
    top ? h('p', { class: 'small', text: `Top action: ${top.action} (${top.count})` }) : null);
}

// One load-alert entry of the cohort tile: name, "{preset} · {share}%", link pills.
function cohortEntry(a) {
  const name = a.providerName ?? a.providerId ?? 'Provider';
  const share = isNum(a.shortShare) ? `${Math.round(a.shortShare * 100)}%` : '';
  return h('li', {}, h('strong', { text: name }), h('span', { class: 'muted small', text: `${a.presetLabel ?? a.presetId ?? 'Preset'} · ${share}` }), linkPills(a.links));
}

function statusCard(label, kind, data, history, runState, onRun) {
  const summary = data && isObj(data.summary) ? data.summary : null;
  const ranAt = data ? fmtTime(data.ranAt) : null;
  const entries = summary ? Object.entries(summary).filter(([k]) => !HIDDEN_SUMMARY_KEYS.has(k)).slice(0, 4) : [];
  const backlog = summary && isNum(summary.scheduledBacklog) ? summary.scheduledBacklog : null;
  const next = summary && typeof summary.nextScheduledAt === 'string' ? summary.nextScheduledAt : null;
  let telemetryBlock = null;
  if (kind === 'alerts') {
    const t = workflowTelemetry(data ? data.metadata ?? data.summary : null) || workflowTelemetry(history && history[0] ? history[0].metadata ?? history[0].summary : null);
    telemetryBlock = t ? telemetryInsight(t) : h('p', { class: 'muted small', text: 'Workflow telemetry will populate after the next automation run.' });
  }
  const result = resultLine();
  if (runState.text) showResult(result, runState.ok, runState.text);
  const button = h('button', { type: 'button', class: 'btn primary', 'data-run': kind, 'aria-label': `Run ${label.toLowerCase()} now` }, 'Run now');
  button.addEventListener('click', () => onRun(kind, button, result));
  return h('article', { class: 'status-card', 'data-worker': kind },
    h('header', { class: 'row spread' }, h('h3', { text: label }), chip('Last run', 'tag')),
    h('p', { class: 'ran-at', 'data-testid': `${kind}-ran-at`, text: ranAt || 'No runs recorded' }),
    backlog !== null || next
      ? h('div', { class: 'box' }, backlog !== null ? h('span', { text: `Backlog: ${backlog}` }) : null, next ? h('span', { text: `Next scheduled: ${fmtTime(next) || next}` }) : null)
      : null,
    entries.length
      ? h('dl', { class: 'summary' }, entries.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: displayValue(v) })]))
      : h('p', { class: 'muted small', text: 'No summary available.' }),
    telemetryBlock,
    history && history.length
      ? h('div', { class: 'recent' }, h('h4', { text: 'Recent runs' }),
        h('ul', { class: 'plain' }, history.slice(0, 4).map((run) => {
          const s = isObj(run.summary) ? Object.entries(run.summary).slice(0, 2).map(([k, v]) => `${k}: ${displayValue(v)}`).join(' · ') : '';
          return h('li', {}, h('span', { text: fmtTime(run.ranAt) || String(run.ranAt) }), s ? h('span', { class: 'muted small', text: ` ${s}` }) : null);
        })))
      : null,
    h('div', { class: 'row' }, button),
    result);
}

function runResultText(kind, data) {
  const s = data && isObj(data.summary) ? data.summary : {};
  if (kind === 'replay') return `Run finished: processed ${num(s.processed) ?? 0} · succeeded ${num(s.succeeded) ?? 0} · failed ${num(s.failed) ?? 0}`;
  if (s.skipped) return 'Run skipped (the alert worker is disabled).';
  return `Run finished: ${num(s.alertsSent) ?? 0} alerts sent · ${num(s.loadAlerts) ?? 0} load alerts`;
}

// The panel. Loads status and history (limit 10) itself; "Run now" re-loads it and fires an
// `automation:run` event on document so the page can refresh what a run may have changed.
export function automationStatusPanel() {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted', text: 'Loading automation status…' }));
  const root = section('automation-status', 'Automation', 'Automation cadence', 'Latest Celery runs recorded by replay + alert workers.', body);
  const runStates = { replay: {}, alerts: {} };

  async function onRun(kind, button, line) {
    await busy(button, async () => {
      try {
        const path = kind === 'replay' ? `${PROVIDERS}/automation/replay/run` : `${PROVIDERS}/automation/alerts/run`;
        const data = await api(path, { method: 'POST' });
        runStates[kind] = { ok: true, text: runResultText(kind, data) };
      } catch (err) {
        runStates[kind] = { ok: false, text: err.message || 'Run failed.' };
      }
    });
    showResult(line, runStates[kind].ok, runStates[kind].text);
    await load();
    document.dispatchEvent(new CustomEvent('automation:run', { detail: { kind } }));
  }

  function render(status, history, problems) {
    const replayPrimary = status?.replay ?? history?.replay?.[0] ?? null;
    const alertPrimary = status?.alerts ?? history?.alerts?.[0] ?? null;
    const rs = replayPrimary && isObj(replayPrimary.summary) ? replayPrimary.summary : {};
    const as = alertPrimary && isObj(alertPrimary.summary) ? alertPrimary.summary : {};
    const backlog = isNum(rs.scheduledBacklog) ? rs.scheduledBacklog : null;
    const next = typeof rs.nextScheduledAt === 'string' ? rs.nextScheduledAt : null;
    const digest = Array.isArray(as.alertsDigest) ? as.alertsDigest.filter(isObj) : [];
    const loadDigest = Array.isArray(as.loadAlertsDigest) ? as.loadAlertsDigest.filter(isObj) : [];
    const actions = collectAutoActions(alertPrimary);
    const tiles = [];
    if (backlog !== null || next) {
      tiles.push(h('div', { class: 'tile', 'data-testid': 'replay-backlog' }, h('p', { class: 'eyebrow', text: 'Replay backlog' }),
        h('strong', { class: 'big', text: backlog !== null ? int(backlog) : 'No queue' }),
        h('p', { class: 'muted small', text: next ? `Next scheduled run ${fmtTime(next) || next}` : 'No upcoming scheduled replays.' })));
    }
    if (digest.length) {
      tiles.push(h('div', { class: 'tile' }, h('p', { class: 'eyebrow', text: 'Active alerts' }),
        h('ul', { class: 'plain' }, digest.slice(0, 3).map((a) => h('li', {}, h('strong', { text: a.providerName ?? a.providerId ?? 'Provider' }),
          h('span', { class: 'muted small', text: Array.isArray(a.reasons) && a.reasons.length ? a.reasons.join(', ') : 'Reason not provided' }))))));
    }
    if (loadDigest.length) {
      tiles.push(h('div', { class: 'tile' }, h('p', { class: 'eyebrow', text: 'Cohort load alerts' }), h('ul', { class: 'plain' }, loadDigest.slice(0, 3).map(cohortEntry))));
    }
    if (actions.length) {
      tiles.push(h('div', { class: 'tile' }, h('p', { class: 'eyebrow', text: 'Auto guardrail actions' }), h('div', { class: 'chips' }, actions.slice(0, 4).map(actionChip))));
    }
    fill(body, 
      ...problems.map((p) => errorLine(p)),
      tiles.length ? h('div', { class: 'grid tiles' }, tiles) : null,
      !status?.replay && !status?.alerts ? empty('No automation runs recorded yet.') : null,
      h('div', { class: 'grid two' },
        statusCard('Replay worker', 'replay', status?.replay ?? null, history?.replay ?? [], runStates.replay, onRun),
        statusCard('Alert worker', 'alerts', status?.alerts ?? null, history?.alerts ?? [], runStates.alerts, onRun)),
    );
  }

  async function load() {
    const [st, hi] = await settle([api(`${PROVIDERS}/automation/status`), api(`${PROVIDERS}/automation/status/history?limit=10`)]);
    const problems = [];
    if (!st.ok) problems.push(`Automation status unavailable: ${st.error.message}`);
    if (!hi.ok) problems.push(`Run history unavailable: ${hi.error.message}`);
    render(st.ok ? st.value : null, hi.ok ? hi.value : null, problems);
  }

  root.ready = load();
  return root;
}

