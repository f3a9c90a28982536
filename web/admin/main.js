// Entry point of the admin pages: picks the page module from the path, renders it into <main>,
// and marks the document ready (body[data-ready]) once every section has its data — the
// browser tests and the benchmark wait for that mark.
import { forgetToken, hasToken } from './api.js';
import { h, errorLine, fill, add } from './dom.js';

const PAGES = [
  [/^\/admin\/orders\/?$/, 'orders', 'Orders', () => import('./page-orders.js')],
  [/^\/admin\/fulfillment\/providers\/?$/, 'providers', 'Provider catalog', () => import('./page-providers.js')],
  [/^\/admin\/fulfillment\/providers\/([^/]+)\/?$/, 'providers', 'Provider', () => import('./page-providers.js')],
  [/^\/admin\/merchandising\/?$/, 'merchandising', 'Merchandising', () => import('./page-merchandising.js')],
  [/^\/admin\/reports\/?$/, 'reports', 'Reports', () => import('./page-reports.js')],
];

async function start() {
  const main = document.getElementById('main');
  const forget = document.getElementById('token-forget');
  forget.hidden = !hasToken();
  forget.addEventListener('click', () => {
    forgetToken();
    location.reload();
  });
  const path = location.pathname;
  const match = PAGES.find(([re]) => re.test(path));
  if (!match) {
    fill(main, h('h1', { text: 'Not found' }), h('p', {}, 'No admin page here. ', h('a', { href: '/admin/orders', text: 'Go to orders' })));
    main.setAttribute('aria-busy', 'false');
    document.body.dataset.ready = 'true';
    return;
  }
  const [re, nav, title, load] = match;
  document.title = `${title} · smplat admin`;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
  }
  const m = path.match(re);
  try {
    const page = await load();
    await page.default(main, { providerId: m[1] ? decodeURIComponent(m[1]) : null });
  } catch (err) {
    add(main, errorLine(`This page failed to render: ${err.message}`));
    console.error(err);
  }
  main.setAttribute('aria-busy', 'false');
  forget.hidden = !hasToken();
  document.body.dataset.ready = 'true';
}

start();
