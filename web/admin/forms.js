// Provider and service forms of the catalog (spec §9.4 C, D.5, D.7): building them and turning
// their values into API bodies (snake_case), with the original's messages. Secrets are shown
// masked; a masked value left as it is keeps the stored secret on save.
import { field, isObj, maskSecrets, unmaskSecrets } from './dom.js';

export class FormError extends Error {}

// Region lists split on commas and newlines (DECISIONS 18).
export function splitRegions(text) {
  return String(text ?? '').split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

function get(form, name) {
  const el = form.elements.namedItem(name);
  return el ? String(el.value ?? '') : null;
}

function rateLimit(form) {
  const raw = (get(form, 'rateLimit') ?? '').trim();
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new FormError('Value must be a non-negative number.');
  return Math.trunc(n);
}

// A JSON field: empty -> null; invalid -> the parser's message; a non-object -> "{field} must
// be a JSON object." (arrays pass, as in the original).
export function jsonField(form, name) {
  const raw = (get(form, name) ?? '').trim();
  if (!raw) return null;
  let v;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new FormError(`${name}: ${err.message}`);
  }
  if (v === null || typeof v !== 'object') throw new FormError(`${name} must be a JSON object.`);
  return v;
}

function healthTimestamp(form) {
  const raw = (get(form, 'lastHealthCheckAt') ?? '').trim();
  if (!raw) return null;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new FormError('Health timestamp must be a valid ISO-8601 date.');
  return d.toISOString();
}

const ENDPOINTS = [['orderEndpoint', 'order', 'Order endpoint (JSON)'], ['balanceEndpoint', 'balance', 'Balance endpoint (JSON)'], ['refillEndpoint', 'refill', 'Refill endpoint (JSON)']];

function localInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const pretty = (v, all = false) => (v && typeof v === 'object' && Object.keys(v).length ? JSON.stringify(maskSecrets(v, all), null, 2) : '');

// The metadata object of a provider form with the endpoint fields merged in (§9.4 C).
function mergedMetadata(form, original) {
  let metadata = jsonField(form, 'metadata');
  const origMeta = isObj(original?.metadata) ? original.metadata : {};
  if (metadata && original) metadata = unmaskSecrets(metadata, origMeta);
  let touched = metadata !== null;
  const meta = isObj(metadata) ? structuredClone(metadata) : {};
  for (const [name, key] of ENDPOINTS) {
    if (get(form, name) === null) continue;
    let ep = jsonField(form, name);
    const origEp = origMeta.automation?.endpoints?.[key];
    if (ep && original) ep = unmaskSecrets(ep, origEp);
    if (ep !== null || meta.automation?.endpoints?.[key] !== undefined) touched = true;
    if (ep !== null) {
      meta.automation = isObj(meta.automation) ? meta.automation : {};
      meta.automation.endpoints = isObj(meta.automation.endpoints) ? meta.automation.endpoints : {};
      meta.automation.endpoints[key] = ep;
    } else if (isObj(meta.automation?.endpoints)) {
      delete meta.automation.endpoints[key];
    }
  }
  if (isObj(meta.automation)) {
    if (isObj(meta.automation.endpoints) && !Object.keys(meta.automation.endpoints).length) delete meta.automation.endpoints;
    if (!Object.keys(meta.automation).length) delete meta.automation;
  }
  return touched ? meta : null;
}

// Body of POST /providers (create) or PATCH /providers/{id} (original given). Null keys are
// omitted on create (spec §10 quirk 2).
export function providerBody(form, original = null) {
  const body = {};
  if (!original) {
    const id = (get(form, 'providerId') ?? '').trim();
    if (!id) throw new FormError('Provider ID is required.');
    body.id = id;
  }
  const name = (get(form, 'name') ?? '').trim();
  if (!name) throw new FormError('Provider name is required.');
  body.name = name;
  body.description = get(form, 'description') ?? '';
  body.base_url = get(form, 'baseUrl') ?? '';
  body.status = get(form, 'status') || 'active';
  const health = get(form, 'healthStatus');
  if (health) body.health_status = health;
  body.allowed_regions = splitRegions(get(form, 'allowedRegions'));
  const rl = rateLimit(form);
  if (rl !== null || original) body.rate_limit_per_minute = rl;
  const metadata = mergedMetadata(form, original);
  if (metadata !== null) body.metadata = metadata;
  else if (original) body.metadata = null;
  let credentials = jsonField(form, 'credentials');
  if (credentials && original) credentials = unmaskSecrets(credentials, original.credentials);
  if (credentials !== null || original) body.credentials = credentials;
  const hp = jsonField(form, 'healthPayload');
  if (hp !== null || original) body.health_payload = hp;
  const ts = healthTimestamp(form);
  if (ts !== null) body.last_health_check_at = ts;
  if (original && body.description === '' && original.description === null) body.description = null;
  if (original && body.base_url === '' && original.baseUrl === null) body.base_url = null;
  return body;
}

const statusOptions = [['active', 'Active'], ['inactive', 'Inactive']];

// Fields of the provider create (no original) or settings (original) form.
export function providerFields(original = null) {
  const p = original || {};
  const endpoints = p.metadata?.automation?.endpoints || {};
  let metaWithoutEndpoints = null;
  if (isObj(p.metadata) && Object.keys(p.metadata).length) {
    metaWithoutEndpoints = structuredClone(p.metadata);
    if (isObj(metaWithoutEndpoints.automation)) {
      delete metaWithoutEndpoints.automation.endpoints;
      if (!Object.keys(metaWithoutEndpoints.automation).length) delete metaWithoutEndpoints.automation;
    }
  }
  const healthOptions = original
    ? [['unknown', 'Unknown'], ['healthy', 'Healthy'], ['degraded', 'Degraded'], ['offline', 'Offline']]
    : [['', 'Unknown'], ['healthy', 'Healthy'], ['degraded', 'Degraded'], ['offline', 'Offline']];
  return [
    original ? null : field('providerId', 'Provider ID', { required: true, placeholder: 'e.g. xyz_network', maxlength: 64 }),
    field('name', 'Display name', { required: true, value: p.name ?? '', maxlength: 255 }),
    field('description', 'Description', { value: p.description ?? '' }),
    field('baseUrl', 'Base API URL', { kind: 'url', value: p.baseUrl ?? '', placeholder: 'https://panel.example.com/api/v2' }),
    field('allowedRegions', 'Allowed regions', { value: (p.allowedRegions || []).join(', '), placeholder: 'comma separated (e.g. eu,us-west)' }),
    field('rateLimit', 'Rate limit per minute', { kind: 'number', min: 0, step: 1, value: p.rateLimitPerMinute ?? '' }),
    field('status', 'Status', { kind: 'select', options: statusOptions, value: p.status ?? 'active' }),
    field('healthStatus', 'Health status', { kind: 'select', options: healthOptions, value: original ? p.healthStatus ?? 'unknown' : '' }),
    field('lastHealthCheckAt', 'Last health check', { kind: 'datetime-local', value: localInput(p.lastHealthCheckAt) }),
    field('metadata', 'Metadata (JSON)', { kind: 'textarea', value: pretty(metaWithoutEndpoints), hint: 'Secrets are masked (••••); leave a masked value as it is to keep it.' }),
    field('credentials', 'Credentials (JSON)', { kind: 'textarea', rows: 2, value: pretty(p.credentials, true) }),
    field('healthPayload', 'Health payload (JSON)', { kind: 'textarea', rows: 2, value: pretty(p.healthPayload) }),
    ENDPOINTS.map(([name, key, label]) => field(name, label, { kind: 'textarea', value: pretty(endpoints[key]), placeholder: '{"method": "POST", "url": "https://…", "payload": {…}}' })),
  ];
}

// ---- services ------------------------------------------------------------------------------

// The non-default parts of a service's expanded metadata (§9.4 D.7: "pre-filled with the
// non-default parts only").
function trimmedServiceMetadata(m) {
  if (!isObj(m)) return null;
  const out = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null || v === undefined) continue;
    if (k === 'version' && v === 1) continue;
    if (k === 'payloadTemplates' && Array.isArray(v) && !v.length) continue;
    out[k] = v;
  }
  return Object.keys(out).length ? out : null;
}

export function serviceFields(original = null) {
  const s = original || {};
  return [
    original ? null : field('serviceId', 'Service ID', { required: true, maxlength: 64 }),
    field('name', 'Service name', { required: true, value: s.name ?? '' }),
    field('action', 'Action key', { required: true, value: s.action ?? '' }),
    field('category', 'Category', { value: s.category ?? '' }),
    field('defaultCurrency', 'Default currency', { value: s.defaultCurrency ?? '', maxlength: 3, placeholder: 'USD' }),
    field('allowedRegions', 'Allowed regions', { value: (s.allowedRegions || []).join(', '), placeholder: 'comma separated (e.g. eu,us-west)' }),
    field('rateLimit', 'Rate limit per minute', { kind: 'number', min: 0, step: 1, value: s.rateLimitPerMinute ?? '' }),
    field('status', 'Status', { kind: 'select', options: statusOptions, value: s.status ?? 'active' }),
    field('healthStatus', 'Health status', { kind: 'select', options: original ? [['unknown', 'Unknown'], ['healthy', 'Healthy'], ['degraded', 'Degraded'], ['offline', 'Offline']] : [['', 'Unknown'], ['healthy', 'Healthy'], ['degraded', 'Degraded'], ['offline', 'Offline']], value: original ? s.healthStatus ?? 'unknown' : '' }),
    field('lastHealthCheckAt', 'Last health check', { kind: 'datetime-local', value: localInput(s.lastHealthCheckAt) }),
    field('metadata', 'Metadata (JSON)', { kind: 'textarea', value: pretty(trimmedServiceMetadata(s.metadata)) }),
    field('credentials', 'Credentials (JSON)', { kind: 'textarea', rows: 2, value: pretty(s.credentials, true) }),
    field('healthPayload', 'Health payload (JSON)', { kind: 'textarea', rows: 2, value: pretty(s.healthPayload) }),
  ];
}

export function serviceBody(form, original = null) {
  const body = {};
  if (!original) {
    const id = (get(form, 'serviceId') ?? '').trim();
    if (!id) throw new FormError('Service ID is required.');
    body.id = id;
  }
  const name = (get(form, 'name') ?? '').trim();
  if (!name) throw new FormError('Service name is required.');
  const action = (get(form, 'action') ?? '').trim();
  if (!action) throw new FormError('Service action is required.');
  body.name = name;
  body.action = action;
  const category = (get(form, 'category') ?? '').trim();
  if (category || original) body.category = category || null;
  const cur = (get(form, 'defaultCurrency') ?? '').trim().toUpperCase();
  if (cur || original) body.default_currency = cur || null;
  body.allowed_regions = splitRegions(get(form, 'allowedRegions'));
  const rl = rateLimit(form);
  if (rl !== null || original) body.rate_limit_per_minute = rl;
  body.status = get(form, 'status') || 'active';
  const health = get(form, 'healthStatus');
  if (health) body.health_status = health;
  const ts = healthTimestamp(form);
  if (ts !== null) body.last_health_check_at = ts;
  let metadata = jsonField(form, 'metadata');
  if (metadata && original) metadata = unmaskSecrets(metadata, original.metadata);
  if (metadata !== null || original) body.metadata = metadata;
  let credentials = jsonField(form, 'credentials');
  if (credentials && original) credentials = unmaskSecrets(credentials, original.credentials);
  if (credentials !== null || original) body.credentials = credentials;
  const hp = jsonField(form, 'healthPayload');
  if (hp !== null || original) body.health_payload = hp;
  return body;
}
