// The provider order card (spec §9.5) and the client-side telemetry of a list of provider
// orders (§9.9, the same algorithm as the server's snapshot §4.16).
import { api, PROVIDERS } from './api.js';
import { h, isObj, isNum, num, str, fmtTime, money, curAmount, chip, field, busy, resultLine, showResult, prettyJson, empty, add, lazyDetails } from './dom.js';

// §9.9 evaluateMargin.
export function evaluateMargin(guardrails, cost, price) {
  const c = num(cost);
  const p = num(price);
  if (c === null || p === null || p <= 0) return { status: 'idle', marginValue: null, marginPercent: null };
  const margin = p - c;
  const marginPercent = (margin / p) * 100;
  const g = isObj(guardrails) ? guardrails : {};
  const minAbs = num(g.minimumMarginAbsolute);
  const minPct = num(g.minimumMarginPercent);
  const warnPct = num(g.warningMarginPercent);
  let status = 'pass';
  if ((minAbs !== null && margin < minAbs) || (minPct !== null && marginPercent < minPct)) status = 'fail';
  else if (warnPct !== null && marginPercent < warnPct) status = 'warn';
  return { status, marginValue: margin, marginPercent };
}

function orderGuardrails(payload) {
  if (!isObj(payload)) return null;
  if (isObj(payload.guardrails)) return payload.guardrails;
  const g = payload.service?.metadata?.guardrails;
  return isObj(g) ? g : null;
}

const zeroCounts = () => ({ evaluated: 0, pass: 0, warn: 0, fail: 0 });
export const emptyTelemetry = () => ({ totalOrders: 0, replays: { total: 0, executed: 0, failed: 0, scheduled: 0 }, guardrails: zeroCounts(), guardrailHitsByService: {}, ruleOverridesByService: {} });

export function summarizeTelemetry(orders) {
  const t = emptyTelemetry();
  for (const o of Array.isArray(orders) ? orders : []) {
    if (!isObj(o)) continue;
    const payload = isObj(o.payload) ? o.payload : {};
    t.totalOrders += 1;
    const replays = Array.isArray(o.replays) ? o.replays : Array.isArray(payload.replays) ? payload.replays : [];
    for (const r of replays) {
      if (!isObj(r)) continue;
      t.replays.total += 1;
      if (r.status === 'executed') t.replays.executed += 1;
      if (r.status === 'failed') t.replays.failed += 1;
    }
    const scheduled = Array.isArray(o.scheduledReplays) ? o.scheduledReplays : Array.isArray(payload.scheduledReplays) ? payload.scheduledReplays : [];
    for (const r of scheduled) if (isObj(r) && r.status === 'scheduled') t.replays.scheduled += 1;
    const key = o.serviceId || o.providerId || 'unknown';
    const g = orderGuardrails(payload);
    const cost = num(payload.providerCostAmount);
    const price = num(o.amount);
    if (g && cost !== null && price !== null) {
      const { status } = evaluateMargin(g, cost, price);
      const svc = (t.guardrailHitsByService[key] ||= zeroCounts());
      t.guardrails.evaluated += 1;
      svc.evaluated += 1;
      if (status !== 'idle') {
        t.guardrails[status] += 1;
        svc[status] += 1;
      }
    }
    if (Array.isArray(payload.serviceRules) && payload.serviceRules.length) {
      const bucket = (t.ruleOverridesByService[key] ||= { totalOverrides: 0, rules: {} });
      for (const rule of payload.serviceRules) {
        const id = isObj(rule) ? str(rule.id) : null;
        if (!id) continue;
        bucket.totalOverrides += 1;
        const r = (bucket.rules[id] ||= { id, label: null, count: 0 });
        r.count += 1;
        if (str(rule.label)) r.label = str(rule.label);
      }
    }
  }
  return t;
}

// Telemetry stats block (catalog and order detail).
export function telemetryPanel(t, { serviceLabel } = {}) {
  const overrides = Object.values(t.ruleOverridesByService).reduce((n, b) => n + b.totalOverrides, 0);
  const keys = [...new Set([...Object.keys(t.guardrailHitsByService), ...Object.keys(t.ruleOverridesByService)])];
  return h('div', { class: 'telemetry-panel' },
    h('div', { class: 'grid stats' },
      stat('Tracked orders', t.totalOrders), stat('Replays executed', t.replays.executed), stat('Replays failed', t.replays.failed),
      stat('Scheduled pending', t.replays.scheduled), stat('Rule overrides', overrides)),
    h('div', { class: 'chips' }, chip(`Guardrail failures: ${t.guardrails.fail}`, 'bad'), chip(`Guardrail warnings: ${t.guardrails.warn}`, 'warn'), chip(`Guardrail passes: ${t.guardrails.pass}`, 'good')),
    keys.length
      ? h('div', {}, h('h4', { text: 'Guardrail posture per service' }), h('div', { class: 'grid cards' }, keys.map((k) => {
        const g = t.guardrailHitsByService[k] || zeroCounts();
        const o = t.ruleOverridesByService[k];
        const top = o ? Object.values(o.rules).sort((a, b) => b.count - a.count)[0] : null;
        return h('div', { class: 'mini' }, h('strong', { text: serviceLabel ? serviceLabel(k) : k }), h('span', { class: 'muted small', text: ` ${g.evaluated} evals` }),
          h('div', { class: 'chips' }, g.fail ? chip(`Below guardrails: ${g.fail}`, 'bad') : null, g.warn ? chip(`Warning: ${g.warn}`, 'warn') : null, g.pass ? chip(`Healthy: ${g.pass}`, 'good') : null),
          h('p', { class: 'small', text: o && o.totalOverrides ? `${o.totalOverrides} overrides · top ${top?.label ?? top?.id}` : 'No rule overrides recorded' }));
      })))
      : null);
}

function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-label', text: label }), h('strong', { class: 'stat-value', text: String(value) }));
}

// ---- rules ---------------------------------------------------------------------------------

function describeConditions(conditions) {
  if (!Array.isArray(conditions) || !conditions.length) return 'Always applies';
  return conditions.filter(isObj).map((c) => {
    const list = (v) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));
    switch (c.kind) {
      case 'channel': return `Channel: ${list(c.channels ?? c.values ?? c.value)}`;
      case 'region': return `Region: ${list(c.regions ?? c.values ?? c.value)}`;
      case 'option': return `Option: ${list(c.options ?? c.optionIds ?? c.values ?? c.value)}`;
      case 'amount': return `Amount ${c.min ?? '—'}–${c.max ?? '—'}`;
      case 'drip': return `Drip ${c.min ?? c.minPerDay ?? '—'}/${c.max ?? c.maxPerDay ?? '—'}`;
      default: return String(c.kind ?? 'condition');
    }
  }).join(' · ');
}

function describeOverrides(o) {
  if (!isObj(o)) return 'Inherit provider defaults';
  const parts = [];
  if (o.providerId) parts.push(`Provider → ${o.providerId}`);
  if (o.serviceId) parts.push(`Service → ${o.serviceId}`);
  if (isNum(o.marginTarget)) parts.push(`Margin ${o.marginTarget}%`);
  if (isNum(o.dripPerDay)) parts.push(`${o.dripPerDay}/day`);
  if (o.payloadTemplate) parts.push('Payload template override');
  if (isNum(o.previewQuantity)) parts.push(`Preview ×${o.previewQuantity}`);
  return parts.length ? parts.join(' · ') : 'Inherit provider defaults';
}

function ruleChips(entry) {
  const ids = Array.isArray(entry.ruleIds) ? entry.ruleIds : [];
  const meta = isObj(entry.ruleMetadata) ? entry.ruleMetadata : {};
  return ids.map((id) => {
    const m = isObj(meta[id]) ? meta[id] : {};
    return chip(m.label ?? id, 'rule');
  });
}

// ---- the card ------------------------------------------------------------------------------

function replayRow(entry) {
  const resp = isObj(entry.response) ? entry.response : null;
  const error = resp && typeof resp.error === 'string' ? resp.error : null;
  const tone = entry.status === 'failed' ? 'bad' : entry.status === 'scheduled' ? 'warn' : 'good';
  return h('li', { class: 'entry', 'data-status': entry.status },
    h('div', { class: 'row' }, chip(entry.status, tone), h('span', { class: 'small', text: fmtTime(entry.performedAt ?? entry.scheduledFor) || '—' }), ruleChips(entry),
      h('span', { class: 'small', text: curAmount(entry.currency, entry.requestedAmount) })),
    error ? h('p', { class: 'error small', text: `Error: ${error}` })
      : resp ? lazyDetails({}, 'Provider response', () => h('pre', { text: prettyJson(resp) })) : null);
}

function localDateTimeValue(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function amountValue(form, name) {
  const raw = String(new FormData(form).get(name) ?? '').trim();
  if (!raw) return { value: undefined };
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) return { error: 'Value must be a non-negative number.' };
  return { value: n };
}

// opts.reload(): resolves with the fresh provider order (or null); the card replaces itself.
export function providerOrderCard(order, opts = {}, flash = null) {
  const payload = isObj(order.payload) ? order.payload : {};
  const base = `${PROVIDERS}/${encodeURIComponent(order.providerId)}/orders/${encodeURIComponent(order.id)}`;
  const result = resultLine();
  result.tabIndex = -1;
  if (flash) showResult(result, flash.ok, flash.text);
  const card = h('article', { class: 'order-card', 'data-provider-order-id': order.id, id: `po-${order.id}` });

  async function act(button, fn) {
    let outcome;
    await busy(button, async () => {
      try {
        await fn();
        outcome = { ok: true, text: 'Updated' };
      } catch (err) {
        outcome = { ok: false, text: err.message || 'Request failed.' };
      }
    });
    if (outcome.ok && opts.reload) {
      try {
        const fresh = await opts.reload(order);
        if (fresh) {
          const next = providerOrderCard(fresh, opts, outcome);
          card.replaceWith(next);
          next.querySelector('.result').focus();
          return;
        }
      } catch {
        /* keep the old card and report below */
      }
    }
    showResult(result, outcome.ok, outcome.text);
  }

  const g = orderGuardrails(payload);
  const margin = g ? evaluateMargin(g, payload.providerCostAmount, order.amount) : { status: 'idle' };
  let banner = null;
  if (g && margin.status !== 'idle') {
    const cur = order.currency || 'USD';
    const title = { fail: 'Margin breach', warn: 'Margin warning', pass: 'Healthy margin' }[margin.status];
    const minPct = num(g.minimumMarginPercent);
    const minAbs = num(g.minimumMarginAbsolute);
    const warnPct = num(g.warningMarginPercent);
    const rails = minPct !== null || minAbs !== null
      ? `Guardrails: ${minPct !== null ? `${minPct.toFixed(1)}% min` : ''}${minPct !== null && minAbs !== null ? ' · ' : ''}${minAbs !== null ? `${money(minAbs, cur)} floor` : ''}`
      : warnPct !== null ? `Guardrails: ${warnPct.toFixed(1)}% warn` : '';
    banner = h('div', { class: `banner ${margin.status === 'fail' ? 'bad' : margin.status === 'warn' ? 'warn' : 'good'}`, role: 'note' },
      h('strong', { text: title }), ` ${margin.marginPercent.toFixed(1)}% margin`,
      h('p', { class: 'small', text: `Provider cost ${money(payload.providerCostAmount, cur)} vs price ${money(order.amount, cur)}` }),
      rails ? h('p', { class: 'small', text: rails }) : null,
      margin.status === 'fail' ? h('p', { class: 'small', text: 'Below configured guardrails — review overrides or schedule a replay.' })
        : margin.status === 'warn' ? h('p', { class: 'small', text: 'Approaching guardrails — review overrides or schedule a replay.' }) : null);
  }

  const refills = Array.isArray(order.refills) ? order.refills : [];
  const lastRefill = refills[refills.length - 1];
  const refillForm = h('form', { class: 'form compact', 'aria-label': 'Trigger refill' },
    field('amount', 'Provider amount', { kind: 'number', value: num(order.amount) ?? '', min: 0, step: 'any' }),
    h('p', { class: 'small' }, h('span', { class: 'muted', text: 'Refill state: ' }), lastRefill ? `${curAmount(lastRefill.currency, lastRefill.amount)} · ${fmtTime(lastRefill.performedAt) || ''}` : 'No manual refills yet.'),
    field('note', 'Timeline note', { kind: 'textarea', rows: 2, maxlength: 500, placeholder: 'Why is this refill needed? This message is stored on the order timeline.' }),
    h('div', { class: 'row' }, h('button', { class: 'btn', type: 'submit' }, 'Trigger refill')));
  refillForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const amount = amountValue(refillForm, 'amount');
    if (amount.error) return showResult(result, false, amount.error);
    const note = String(new FormData(refillForm).get('note') ?? '').trim();
    const body = {};
    if (amount.value !== undefined) body.amount = amount.value;
    if (note) body.note = note;
    act(ev.submitter || refillForm.querySelector('button'), () => api(`${base}/refill`, { method: 'POST', body }));
  });

  const replayForm = h('form', { class: 'form compact', 'aria-label': 'Replay now' },
    h('h4', { text: 'Replay now' }),
    field('amount', 'Amount override', { kind: 'number', min: 0, step: 'any', placeholder: 'Use recorded amount' }),
    h('div', { class: 'row' }, h('button', { class: 'btn primary', type: 'submit' }, 'Replay provider order')));
  replayForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const amount = amountValue(replayForm, 'amount');
    if (amount.error) return showResult(result, false, amount.error);
    const body = amount.value !== undefined ? { amount: amount.value } : {};
    act(ev.submitter || replayForm.querySelector('button'), () => api(`${base}/replay`, { method: 'POST', body }));
  });

  const now = new Date();
  const scheduleForm = h('form', { class: 'form compact', 'aria-label': 'Schedule replay' },
    h('h4', { text: 'Schedule replay' }),
    field('amount', 'Amount override', { kind: 'number', min: 0, step: 'any', placeholder: 'Use recorded amount' }),
    field('runAt', 'Run at', { kind: 'datetime-local', required: true, value: localDateTimeValue(new Date(now.getTime() + 30 * 60000)), min: localDateTimeValue(now), hint: 'Your local time; sent as UTC.' }),
    h('div', { class: 'row' }, h('button', { class: 'btn', type: 'submit' }, 'Queue replay')));
  scheduleForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const amount = amountValue(scheduleForm, 'amount');
    if (amount.error) return showResult(result, false, amount.error);
    const raw = String(new FormData(scheduleForm).get('runAt') ?? '').trim();
    if (!raw) return showResult(result, false, 'Select a schedule time for the replay.');
    const when = new Date(raw);
    if (Number.isNaN(when.getTime())) return showResult(result, false, 'Schedule time must be a valid date/time.');
    const body = { runAt: when.toISOString(), scheduleOnly: true };
    if (amount.value !== undefined) body.amount = amount.value;
    act(ev.submitter || scheduleForm.querySelector('button'), () => api(`${base}/replay`, { method: 'POST', body }));
  });

  const scheduled = Array.isArray(order.scheduledReplays) ? order.scheduledReplays : [];
  const replays = Array.isArray(order.replays) ? order.replays : [];
  const rules = Array.isArray(payload.serviceRules) ? payload.serviceRules.filter(isObj) : [];

  // A placement that failed, or whose outcome is unknown (its placer stopped mid-request), says
  // so in its providerResponse; ops check with the provider before replaying.
  const placed = isObj(payload.providerResponse) ? payload.providerResponse : null;
  const placementError = placed && typeof placed.error === 'string'
    ? h('p', { class: 'error small', 'data-placement': 'error', text: `Placement: ${placed.error}` })
    : null;

  add(card, 
    h('header', { class: 'order-head' },
      h('div', {}, h('h4', { text: `Provider order ${order.providerOrderId ?? '—'}` }),
        h('p', { class: 'muted small', text: `Order #${String(order.orderId ?? '').slice(0, 8)} · Service ${order.serviceId ?? '—'}` })),
      h('div', { class: 'right' }, h('strong', { text: curAmount(order.currency, order.amount, true) }),
        h('p', { class: 'muted small', text: `Last updated ${fmtTime(order.updatedAt) || '—'}` }))),
    placementError,
    banner,
    result,
    h('div', { class: 'grid two' },
      h('div', { class: 'sub' }, h('h4', { text: 'Refill' }), refillForm),
      h('div', { class: 'sub' }, h('h4', { text: 'Automation replays' }), h('p', { class: 'muted small', text: 'Run the provider endpoint immediately or schedule it for later.' }),
        replayForm, scheduleForm)),
    scheduled.length ? h('div', { class: 'list', 'data-list': 'scheduled' }, h('h5', { text: 'Scheduled replays' }), h('ul', { class: 'plain' }, scheduled.map(replayRow))) : null,
    replays.length ? h('div', { class: 'list', 'data-list': 'replays' }, h('h5', { text: 'Replay history' }), h('ul', { class: 'plain' }, replays.slice().reverse().map(replayRow))) : null,
    !scheduled.length && !replays.length ? empty('No replay attempts recorded for this provider order yet.') : null,
    refills.length ? h('div', { class: 'list', 'data-list': 'refills' }, h('h5', { text: 'Refill history' }),
      h('ul', { class: 'plain' }, refills.slice().reverse().map((r) => h('li', { class: 'entry' }, h('span', { text: curAmount(r.currency, r.amount) }), ' ', h('span', { class: 'muted small', text: fmtTime(r.performedAt) || '' }))))) : null,
    rules.length ? h('div', { class: 'list' }, h('h5', { text: 'Provider rules' }), h('ul', { class: 'plain' }, rules.map((r) => h('li', { class: 'entry' },
      h('strong', { text: r.label ?? r.id ?? 'Rule' }), isNum(r.priority) ? h('span', { class: 'muted small', text: ` Priority ${r.priority}` }) : null,
      h('p', { class: 'small', text: `Conditions: ${describeConditions(r.conditions)}` }),
      h('p', { class: 'small', text: `Overrides: ${describeOverrides(r.overrides)}` }))))) : null,
    Object.keys(payload).length ? lazyDetails({}, 'Order payload', () => h('pre', { text: prettyJson(payload) })) : null,
  );
  return card;
}
