// DOM building and formatting helpers shared by the pages. Everything is built with
// createElement/textContent, never innerHTML, so data from the API cannot inject markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A <details> whose body is built the first time it opens (or at once when attrs.open): forms
// and long JSON that most visits never open cost nothing until they are wanted. el.ensure()
// builds it on demand.
export function lazyDetails(attrs, summary, build) {
  const el = h('details', attrs, h('summary', { text: summary }));
  let built = false;
  el.ensure = () => {
    if (built) return;
    built = true;
    append(el, [build()]);
  };
  el.addEventListener('toggle', () => {
    if (el.open) el.ensure();
  });
  if (el.open) el.ensure();
  return el;
}

let uid = 0;
export function nextId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---- values --------------------------------------------------------------------------------

export const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
export const str = (v) => (typeof v === 'string' && v.trim() ? v.trim() : null);

// A number from a number or a numeric string; null otherwise.
export function num(v) {
  if (isNum(v)) return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

// ---- formatting (one fixed time format: YYYY-MM-DD HH:MM UTC, spec §9 [rec]) -------------

export function fmtTime(iso) {
  if (typeof iso !== 'string' || !iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

export function fmtHM(iso) {
  const t = fmtTime(iso);
  return t ? t.slice(11) : '—';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export function fmtMonthDay(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

const pctFmt = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
export function pct(v) {
  return isNum(v) ? pctFmt.format(v) : '—';
}

const intFmt = new Intl.NumberFormat('en-US');
export function int(v) {
  const n = num(v);
  return n === null ? '0' : intFmt.format(n);
}

export function money(amount, currency = 'USD', digits = 2) {
  const n = num(amount);
  if (n === null) return '—';
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: (currency || 'USD').toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(n);
  } catch {
    return `${currency || ''} ${n.toFixed(digits)}`.trim();
  }
}

// "{cur} {amount}" as the original's cards show it.
export function curAmount(currency, amount, fixed = false) {
  const n = num(amount);
  const a = n === null ? '—' : fixed ? n.toFixed(2) : String(n);
  return `${currency || ''} ${a}`.trim();
}

// ---- secrets -------------------------------------------------------------------------------

export const MASK = '••••••••';
const SECRET_KEY = /(api[-_]?key|token|secret|password|passwd|credential|authorization|private[-_]?key|signature|webhook)/i;

// A deep copy of value with the values under secret-looking keys replaced by MASK. Template
// placeholders ("{{apiKey}}") are not secrets and are kept, so endpoint configs stay readable.
// With all = true every leaf is masked (credentials objects).
export function maskSecrets(value, all = false) {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, all));
  if (isObj(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if ((all || SECRET_KEY.test(k)) && !isObj(v) && !Array.isArray(v) && v !== null && v !== '') {
        out[k] = typeof v === 'string' && /^\s*\{\{[^}]+\}\}\s*$/.test(v) ? v : MASK;
      } else {
        out[k] = maskSecrets(v, all || SECRET_KEY.test(k));
      }
    }
    return out;
  }
  return value;
}

// Puts the original secrets back where an edited copy still holds MASK, so saving a form that
// showed masked values does not overwrite the secrets with the mask.
export function unmaskSecrets(edited, original) {
  if (edited === MASK) return original === undefined ? null : original;
  if (Array.isArray(edited)) return edited.map((v, i) => unmaskSecrets(v, Array.isArray(original) ? original[i] : undefined));
  if (isObj(edited)) {
    const out = {};
    for (const [k, v] of Object.entries(edited)) out[k] = unmaskSecrets(v, isObj(original) ? original[k] : undefined);
    return out;
  }
  return edited;
}

export function prettyJson(value, all = false) {
  return JSON.stringify(maskSecrets(value, all), null, 2);
}

// ---- building blocks -----------------------------------------------------------------------

export function section(id, eyebrow, title, description, ...body) {
  const headId = nextId('h');
  return h(
    'section',
    { class: 'card section', id, 'aria-labelledby': headId },
    h('div', { class: 'section-head' },
      eyebrow ? h('p', { class: 'eyebrow', text: eyebrow }) : null,
      h('h2', { id: headId, text: title }),
      description ? h('p', { class: 'muted', text: description }) : null),
    ...body,
  );
}

export const empty = (text) => h('p', { class: 'empty', text });
export const errorLine = (text) => h('p', { class: 'error', role: 'alert', text });
export const chip = (text, tone = '') => h('span', { class: `chip ${tone}`.trim(), text });
export const stat = (label, value, hint) =>
  h('div', { class: 'stat' }, h('span', { class: 'stat-label', text: label }), h('strong', { class: 'stat-value', text: String(value) }), hint ? h('span', { class: 'muted small', text: hint }) : null);

// "View preset" / "View provider" / "Orders" pills, each only when its link is non-blank.
export function linkPills(links) {
  if (!isObj(links)) return null;
  const pills = [
    ['merchandising', 'View preset'],
    ['fulfillment', 'View provider'],
    ['orders', 'Orders'],
  ]
    .filter(([k]) => typeof links[k] === 'string' && links[k].trim())
    .map(([k, label]) => h('a', { class: 'pill', href: links[k].trim() }, label));
  return pills.length ? h('div', { class: 'pills' }, pills) : null;
}

// A labelled form field. kind: input type, 'textarea' or 'select' (options [[value, label]]).
export function field(name, label, { kind = 'text', value = '', required = false, placeholder, options, min, max, maxlength, step, hint, rows } = {}) {
  const id = nextId(name);
  let control;
  if (kind === 'textarea') {
    control = h('textarea', { id, name, rows: rows || 4, placeholder, required, spellcheck: 'false' });
    control.value = value ?? '';
  } else if (kind === 'select') {
    control = h('select', { id, name, required }, (options || []).map(([v, l]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, l)));
  } else {
    control = h('input', { id, name, type: kind, placeholder, required, min, max, maxlength, step, autocomplete: 'off' });
    control.value = value ?? '';
  }
  const hintId = hint ? nextId('hint') : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: `field ${kind === 'textarea' ? 'wide' : ''}`.trim() },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null),
    control,
    hint ? h('span', { class: 'muted small', id: hintId, text: hint }) : null);
}

// A result line under a form: "Updated" in green or the error text in red.
export function resultLine() {
  return h('p', { class: 'result', role: 'status', 'aria-live': 'polite' });
}
export function showResult(line, ok, text) {
  line.className = `result ${ok ? 'ok' : 'error'}`;
  line.textContent = text;
}

// Runs an async form action with the button disabled and "Working..." shown.
export async function busy(button, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Working...';
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

export function params() {
  return new URLSearchParams(location.search);
}

// The admin page a load-alert / auto-action link points to, relative when it is ours.
export function localHref(url) {
  if (typeof url !== 'string') return null;
  return url.trim() || null;
}

// Element.replaceChildren/append would turn null into the text "null" and arrays into text:
// these skip null/false and flatten arrays.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
export function add(el, ...children) {
  return append(el, children);
}
