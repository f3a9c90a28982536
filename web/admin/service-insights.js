// The service cost insights of a service card (spec §9.9): its cost model, cadence and
// guardrails in words, and a margin preview that prices a quantity with the cost model and
// evaluates the margin against the guardrails as the customer price is typed.
import { h, isObj, num, money, chip, field } from './dom.js';
import { evaluateMargin } from './order-card.js';

const DECIMAL1 = (v) => `${v.toFixed(1)}%`;

// The provider cost of qty units under a cost model; null when it cannot be priced.
export function estimateProviderCost(model, qty) {
  if (!isObj(model)) return null;
  const q = num(qty);
  if (model.kind === 'flat') return num(model.amount);
  if (model.kind === 'per_unit') {
    const unit = num(model.unitAmount);
    if (unit === null || q === null) return null;
    return Math.max(q, num(model.minimumUnits) ?? 0) * unit;
  }
  if (model.kind === 'tiered') {
    if (q === null || q <= 0) return null;
    const tiers = (Array.isArray(model.tiers) ? model.tiers : [])
      .filter((t) => isObj(t) && num(t.unitAmount) !== null)
      .map((t) => ({ upTo: num(t.upTo) ?? Infinity, rate: num(t.unitAmount) }))
      .sort((a, b) => a.upTo - b.upTo);
    if (!tiers.length) return null;
    let cost = 0;
    let done = 0;
    for (const t of tiers) {
      if (done >= q) break;
      const take = Math.min(q, t.upTo) - done;
      if (take > 0) {
        cost += take * t.rate;
        done += take;
      }
    }
    if (done < q) cost += (q - done) * tiers[tiers.length - 1].rate;
    return cost;
  }
  return null;
}

// Lines describing a cost model: "$1.20 per order", "$0.01 per follower · minimum 100 units",
// or "Tiered pricing (N bands)" and up to three band lines.
export function describeCostModel(model) {
  if (!isObj(model)) return [];
  const cur = model.currency || 'USD';
  if (model.kind === 'flat') return [`${money(model.amount, cur)} per order`];
  if (model.kind === 'per_unit') {
    const min = num(model.minimumUnits);
    return [`${money(model.unitAmount, cur)} per ${model.unit || 'unit'}${min ? ` · minimum ${min} units` : ''}`];
  }
  if (model.kind === 'tiered') {
    const tiers = Array.isArray(model.tiers) ? model.tiers.filter(isObj) : [];
    return [`Tiered pricing (${tiers.length} bands)`, ...tiers.slice(0, 3).map((t) => `≤ ${num(t.upTo) ?? '∞'}: ${money(t.unitAmount, cur)} per unit`)];
  }
  return [];
}

export function describeCadence(c) {
  if (!isObj(c)) return [];
  const out = [];
  if (num(c.batchSize) !== null) out.push(`Batch size ${num(c.batchSize)}`);
  if (num(c.defaultDailyQuota) !== null) out.push(`${num(c.defaultDailyQuota)} / day`);
  if (num(c.fulfillmentWindowHours) !== null) out.push(`Fulfillment window ~${num(c.fulfillmentWindowHours)}h`);
  if (num(c.expectedCompletionHours) !== null) out.push(`Expected completion ~${num(c.expectedCompletionHours)}h`);
  if (num(c.refillWindowHours) !== null) out.push(`Refill buffer ${num(c.refillWindowHours)}h`);
  if (typeof c.notes === 'string' && c.notes.trim()) out.push(c.notes.trim());
  return out;
}

export function describeGuardrails(g, currency = 'USD') {
  if (!isObj(g)) return [];
  const out = [];
  if (num(g.minimumMarginPercent) !== null) out.push(`Minimum margin ${DECIMAL1(num(g.minimumMarginPercent))}`);
  if (num(g.warningMarginPercent) !== null) out.push(`Warn below ${DECIMAL1(num(g.warningMarginPercent))}`);
  if (num(g.minimumMarginAbsolute) !== null) out.push(`Hard floor ${money(g.minimumMarginAbsolute, g.currency || currency)}`);
  if (typeof g.notes === 'string' && g.notes.trim()) out.push(g.notes.trim());
  return out;
}

const STATUS_TEXT = { pass: 'Healthy', warn: 'Warning', fail: 'Below guardrails' };
const STATUS_TONE = { pass: 'good', warn: 'warn', fail: 'bad' };

function list(title, lines, emptyText) {
  return h('div', { class: 'insight' }, h('h5', { text: title }),
    lines.length ? h('ul', { class: 'plain' }, lines.map((l) => h('li', { text: l }))) : emptyText ? h('p', { class: 'muted small', text: emptyText }) : null);
}

// The block, or null when the service has no cost model, guardrails or cadence.
export function serviceInsights(service) {
  const md = isObj(service?.metadata) ? service.metadata : {};
  const model = isObj(md.costModel) ? md.costModel : null;
  const guardrails = isObj(md.guardrails) ? md.guardrails : null;
  const cadence = isObj(md.cadence) ? md.cadence : null;
  if (!model && !guardrails && !cadence) return null;
  const currency = model?.currency || guardrails?.currency || service.defaultCurrency || 'USD';
  const ops = (Array.isArray(md.payloadTemplates) ? md.payloadTemplates : []).map((t) => t?.operation).filter((o) => typeof o === 'string' && o);

  let preview = null;
  if (model) {
    const defQty = num(md.defaultInputs?.quantity) ?? 1;
    const qtyField = field('previewQuantity', 'Preview quantity', { kind: 'number', value: String(defQty), min: 0, step: 'any' });
    const priceField = field('customerPrice', 'Customer price', { kind: 'number', placeholder: 'Enter list price', min: 0, step: 'any' });
    const qty = qtyField.querySelector('input');
    const price = priceField.querySelector('input');
    const costLine = h('p', { class: 'small' });
    const marginLine = h('p', { class: 'small', 'data-testid': 'margin-preview' });
    const update = () => {
      const cost = estimateProviderCost(model, qty.value === '' ? null : Number(qty.value));
      costLine.textContent = `Provider cost: ${cost === null ? '—' : money(cost, currency)}`;
      const m = evaluateMargin(guardrails, cost, price.value === '' ? null : Number(price.value));
      marginLine.replaceChildren();
      if (m.status === 'idle') marginLine.textContent = 'Enter a customer price to evaluate guardrails.';
      else marginLine.append(`${money(m.marginValue, currency)} margin (${m.marginPercent.toFixed(1)}%) · `, chip(STATUS_TEXT[m.status], STATUS_TONE[m.status]));
    };
    qty.addEventListener('input', update);
    price.addEventListener('input', update);
    update();
    preview = h('div', { class: 'margin-preview', role: 'group', 'aria-label': `Margin preview for ${service.name}` },
      h('div', { class: 'fields' }, qtyField, priceField),
      h('div', { class: 'preview', role: 'status', 'aria-live': 'polite' }, h('h5', { text: 'Margin preview' }), costLine, marginLine));
  }

  return h('div', { class: 'service-insights', 'data-testid': 'service-insights' },
    h('div', { class: 'grid three' },
      list('Cost structure', describeCostModel(model), 'Define a structured cost model inside metadata to surface auto-computed margins.'),
      cadence ? list('Cadence', describeCadence(cadence)) : null,
      guardrails ? list('Guardrails', describeGuardrails(guardrails, currency)) : null),
    ops.length ? h('p', { class: 'muted small', text: `Payload templates: ${ops.join(', ')}` }) : null,
    preview);
}
