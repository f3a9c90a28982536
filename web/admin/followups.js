// Guardrail follow-ups (spec-api-ui §9.4 item 4, §9.10; spec-alerts §11): the timeline of a
// provider's follow-ups read from GET /api/v1/reporting/guardrails/followups (newest first,
// "Load more" through nextCursor), the guardrail status line, the follow-up telemetry box and
// the "Record follow-up" form of the provider detail page.
import { api } from './api.js';
import { h, empty, errorLine, chip, isObj, fmtTime, fill, add, field, resultLine, showResult, busy } from './dom.js';

export const FOLLOWUPS = '/api/v1/reporting/guardrails/followups';
export const FOLLOWUP_PAGE = 5;

const enc = encodeURIComponent;

// "Escalated to ops" / "Paused variant" / "Resumed automation", otherwise the action itself.
export function actionLabel(action) {
  const a = typeof action === 'string' ? action.trim() : '';
  if (a.toLowerCase().startsWith('escalate')) return 'Escalated to ops';
  if (a === 'pause') return 'Paused variant';
  if (a === 'resume') return 'Resumed automation';
  return a || 'Follow-up';
}

function actionTone(action) {
  if (action === 'pause') return 'bad';
  if (action === 'resume') return 'good';
  if (typeof action === 'string' && action.startsWith('escalate')) return 'warn';
  return 'tag';
}

// The platform context pill: "{label} ({handle})", or whichever of the two is set.
function contextPill(ctx) {
  if (!isObj(ctx)) return null;
  const label = typeof ctx.label === 'string' && ctx.label.trim() ? ctx.label.trim() : null;
  const handle = typeof ctx.handle === 'string' && ctx.handle.trim() ? ctx.handle.trim() : null;
  const text = label && handle ? `${label} (${handle})` : label || handle || (typeof ctx.id === 'string' ? ctx.id : null);
  return text ? h('span', { class: 'chip tag', 'data-testid': 'followup-context', title: ctx.platformType || undefined, text }) : null;
}

// The conversion link: the recorded href, else the reports page at the recorded cursor.
function conversionLink(entry) {
  const href = typeof entry.conversionHref === 'string' && entry.conversionHref.trim() ? entry.conversionHref.trim() : null;
  const cursor = typeof entry.conversionCursor === 'string' && entry.conversionCursor.trim() ? entry.conversionCursor.trim() : null;
  if (!href && !cursor) return null;
  const url = href || `/admin/reports?conversionCursor=${enc(cursor)}#experiment-analytics`;
  return h('a', { class: 'pill', href: url, 'data-testid': 'followup-conversion' }, cursor ? `Historical conversion slice (${cursor})` : 'Open conversions');
}

export function followupItem(entry) {
  const when = fmtTime(entry.createdAt) || entry.createdAt || '';
  const attachments = Array.isArray(entry.attachments) ? entry.attachments.filter(isObj) : [];
  return h('li', { class: 'followup', 'data-followup-id': entry.id, 'data-action': entry.action },
    h('div', { class: 'row spread' },
      h('span', {}, chip(actionLabel(entry.action), actionTone(entry.action)), entry.providerName ? h('span', { class: 'muted small', text: ` ${entry.providerName}` }) : null),
      h('time', { class: 'muted small', datetime: entry.createdAt || undefined, text: when })),
    entry.notes ? h('p', { class: 'followup-notes', text: entry.notes }) : null,
    h('div', { class: 'chips' }, contextPill(entry.platformContext), conversionLink(entry),
      attachments.map((a) => (typeof a.assetUrl === 'string' && a.assetUrl ? h('a', { class: 'pill', href: a.assetUrl, rel: 'noopener', text: a.fileName || a.assetUrl }) : null))));
}

// A provider's follow-up timeline: a <details> open when there are entries, filled by load()
// (one page of FOLLOWUP_PAGE), paged with "Load more". onPage(data) sees every answer (status
// and telemetry come with each). prepend(entry) shows a follow-up just recorded.
export function followupTimeline(providerId, { onPage, heading = 'h3' } = {}) {
  const list = h('ol', { class: 'timeline', 'aria-label': `Guardrail follow-ups for ${providerId}` });
  const body = h('div', { class: 'followup-body' }, h('p', { class: 'muted small', text: 'Loading guardrail follow-ups…' }));
  const more = h('button', { type: 'button', class: 'btn small', 'data-testid': 'followups-more' }, 'Load more');
  const moreLine = resultLine();
  const box = h('details', { class: 'sub followups', 'data-followups-for': providerId },
    h('summary', {}, h(heading, { class: 'inline', text: 'Guardrail follow-ups' })), body);
  let cursor = null;
  let count = 0;

  const emptyText = () => empty(`No guardrail follow-ups have been logged for ${providerId}.`);
  function render() {
    more.hidden = !cursor;
    fill(body, count ? list : emptyText(), h('div', { class: 'row' }, more), moreLine);
    box.open = count > 0 || box.open;
  }
  async function page(after) {
    const q = `providerId=${enc(providerId)}&limit=${FOLLOWUP_PAGE}${after ? `&cursor=${enc(after)}` : ''}`;
    const data = await api(`${FOLLOWUPS}?${q}`);
    const entries = Array.isArray(data?.entries) ? data.entries : [];
    add(list, entries.map(followupItem));
    count += entries.length;
    cursor = typeof data?.nextCursor === 'string' ? data.nextCursor : null;
    onPage?.(data);
    return data;
  }
  more.addEventListener('click', async () => {
    await busy(more, async () => {
      try {
        await page(cursor);
        showResult(moreLine, true, '');
      } catch (err) {
        showResult(moreLine, false, `Follow-ups unavailable: ${err.message}`);
      }
    });
    render();
  });
  box.load = async () => {
    list.replaceChildren();
    count = 0;
    cursor = null;
    try {
      await page(null);
    } catch (err) {
      fill(body, errorLine(`Guardrail follow-ups unavailable: ${err.message}`));
      return;
    }
    render();
  };
  box.prepend = (entry) => {
    list.prepend(followupItem(entry));
    count += 1;
    render();
    box.open = true;
  };
  return box;
}

// "Current status: Paused · Last action pause on 2025-01-01 10:00 UTC" (§9.10).
export function statusLine(status) {
  if (!isObj(status)) return h('p', { class: 'muted', 'data-testid': 'guardrail-status', text: 'No guardrail status recorded yet.' });
  return h('p', { 'data-testid': 'guardrail-status' },
    'Current status: ', h('strong', { class: status.isPaused ? 'bad-text' : '', text: status.isPaused ? 'Paused' : 'Active' }),
    ` · Last action ${status.lastAction ?? '—'} on ${fmtTime(status.updatedAt) || '—'}`);
}

const count = (o, k) => (isObj(o) && Number.isFinite(o[k]) ? o[k] : 0);

// The "Provider automation telemetry" box of §9.10 from a follow-up answer's providerTelemetry.
export function telemetryBox(t) {
  if (!isObj(t)) return null;
  const r = t.replays || {};
  const g = t.guardrails || {};
  const watch = Object.entries(isObj(t.guardrailHitsByService) ? t.guardrailHitsByService : {})
    .filter(([, v]) => count(v, 'warn') > 0 || count(v, 'fail') > 0)
    .sort(([, a], [, b]) => count(b, 'fail') - count(a, 'fail') || count(b, 'warn') - count(a, 'warn'))
    .slice(0, 3);
  const overrides = Object.entries(isObj(t.ruleOverridesByService) ? t.ruleOverridesByService : {})
    .sort(([, a], [, b]) => count(b, 'totalOverrides') - count(a, 'totalOverrides'))
    .slice(0, 3);
  const row = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'stat-label', text: label }), h('strong', { class: 'stat-value small', text: String(value) }));
  return h('div', { class: 'telemetry-box', 'data-testid': 'followup-telemetry' },
    h('h3', { text: 'Provider automation telemetry' }),
    h('div', { class: 'grid stats' },
      row('Routed orders', count(t, 'totalOrders')),
      row('Replays executed', `${count(r, 'executed')}/${count(r, 'total')} · failed ${count(r, 'failed')} · scheduled ${count(r, 'scheduled')}`),
      row('Guardrail checks', `${count(g, 'evaluated')}: pass ${count(g, 'pass')} · warn ${count(g, 'warn')} · fail ${count(g, 'fail')}`)),
    watch.length ? h('p', { class: 'small', text: `Services under watch: ${watch.map(([k, v]) => `${k} (warn ${count(v, 'warn')}, fail ${count(v, 'fail')})`).join(', ')}` }) : null,
    overrides.length ? h('p', { class: 'small', text: `Rule overrides: ${overrides.map(([k, v]) => `${k} (${count(v, 'totalOverrides')})`).join(', ')}` }) : null);
}

// The "Record follow-up" form: an action (escalate_to_ops, pause, resume or free text) and
// notes, POSTed as a manual follow-up. onRecorded(answer) gets {entry, status, providerTelemetry}.
export function recordForm(providerId, providerName, onRecorded) {
  const line = resultLine();
  const button = h('button', { class: 'btn primary', type: 'submit' }, 'Record follow-up');
  const other = field('actionText', 'Other action', { placeholder: 'e.g. contacted_provider', hint: 'Used when the action is "Other".' });
  other.hidden = true;
  const select = field('action', 'Action', { kind: 'select', value: 'escalate_to_ops', options: [['escalate_to_ops', 'Escalate to ops'], ['pause', 'Pause'], ['resume', 'Resume'], ['other', 'Other…']] });
  const form = h('form', { class: 'form compact', id: 'record-followup', 'aria-label': `Record a guardrail follow-up for ${providerId}`, novalidate: true },
    h('div', { class: 'fields' }, select, other, field('notes', 'Notes', { kind: 'textarea', rows: 3, hint: 'Up to 500 characters.' })),
    h('div', { class: 'row' }, button), line);
  const sel = select.querySelector('select');
  sel.addEventListener('change', () => {
    other.hidden = sel.value !== 'other';
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const action = sel.value === 'other' ? form.elements.actionText.value.trim() : sel.value;
    const notes = form.elements.notes.value;
    const body = { providerId, action };
    if (providerName) body.providerName = providerName;
    if (notes.trim()) body.notes = notes;
    let out;
    await busy(button, async () => {
      try {
        out = { ok: true, value: await api(FOLLOWUPS, { method: 'POST', body }) };
      } catch (err) {
        out = { ok: false, text: err.message || 'Failed to record follow-up.' };
      }
    });
    if (!out.ok) {
      line.setAttribute('role', 'alert');
      showResult(line, false, out.text);
      return;
    }
    line.setAttribute('role', 'status');
    showResult(line, true, 'Follow-up recorded');
    form.elements.notes.value = '';
    onRecorded(out.value);
  });
  return form;
}
