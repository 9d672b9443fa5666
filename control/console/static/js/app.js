// The console's shell: sign-in, the banner for failed calls, and the
// hash routes to each view. A view renders into a fresh element that is
// shown only while its route is still the current one, and its timers stop
// when the route changes.
import { ApiError, clearToken, get, setToken, token } from './api.js';
import { h } from './dom.js';
import { deploymentView, deploymentsView } from './views/deployments.js';
import { namespacesView, tenantsView } from './views/tenants.js';
import { diffView, namespaceView } from './views/versions.js';

const $ = (id) => document.getElementById(id);

const ROUTES = [
  [/^#\/tenants$/, 'tenants', (v) => tenantsView(v)],
  [/^#\/tenants\/([^/]+)$/, 'tenants', (v, t) => namespacesView(v, t)],
  [/^#\/ns\/([^/]+)\/([^/]+)$/, 'tenants', (v, t, n) => namespaceView(v, t, n)],
  [/^#\/ns\/([^/]+)\/([^/]+)\/diff\/(\d+)\/(\d+)$/, 'tenants', (v, t, n, a, b) => diffView(v, t, n, a, b)],
  [/^#\/deployments$/, 'deployments', (v) => deploymentsView(v)],
  [/^#\/deployments\/(\d+)$/, 'deployments', (v, id) => deploymentView(v, id)],
];

let current = null;  // the view shown now

// What a view may do while it is current.
class View {
  constructor(section) {
    this.section = section;
    this.root = h('div', { class: 'view' });
    this.timers = [];
    this.leaving = [];
    this.live = true;
  }

  title(text) {
    document.title = `${text} · hotswap`;
  }

  // Shows `children` as the page's content.
  show(...children) {
    this.root.replaceChildren();
    for (const c of children.flat()) if (c) this.root.append(c);
    if (this.live) $('view').replaceChildren(this.root);
  }

  // Calls `fn` every `ms` while the view is current, one call at a time;
  // a failure goes to the banner and the next call still comes.
  every(ms, fn) {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy || !this.live) return;
      busy = true;
      try {
        await fn();
        if (this.live) clearBanner();
      } catch (e) {
        if (this.live) failed(e);
      } finally {
        busy = false;
      }
    }, ms);
    this.timers.push(timer);
  }

  onLeave(fn) {
    this.leaving.push(fn);
  }

  leave() {
    this.live = false;
    for (const t of this.timers) clearInterval(t);
    for (const fn of this.leaving) fn();
  }
}

function showBanner(text) {
  $('banner-text').textContent = text;
  $('banner').hidden = false;
}

function clearBanner() {
  $('banner').hidden = true;
}

// A failed call: 401 signs out (the token is gone or wrong); anything else
// is named in the banner.
function failed(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut('The token was refused (HTTP 401): sign in again.');
    return;
  }
  showBanner(e instanceof ApiError ? e.message : `The page failed: ${e.message}`);
}

function signedIn(yes) {
  $('login').hidden = yes;
  $('nav').hidden = !yes;
  $('sign-out').hidden = !yes;
  $('view').hidden = !yes;
}

function signOut(why) {
  if (current) current.leave();
  current = null;
  clearToken();
  clearBanner();
  signedIn(false);
  $('view').replaceChildren();
  $('login-error').textContent = why ?? '';
  $('login-error').hidden = !why;
  $('token').value = '';
  $('token').focus();
}

async function render() {
  if (!token()) return signOut();
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    location.replace('#/tenants');
    return undefined;
  }
  if (current) current.leave();
  const match = ROUTES.map(([re, section, fn]) => [location.hash.match(re), section, fn])
    .find(([m]) => m);
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', !!match && a.dataset.section === match[1]);
  }
  signedIn(true);
  if (!match) {
    current = null;
    $('view').replaceChildren(h('p', { class: 'empty' }, 'No such page.'));
    return undefined;
  }
  const [m, section, fn] = match;
  const view = new View(section);
  current = view;
  $('view').replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    await fn(view, ...m.slice(1).map(decodeURIComponent));
    if (view.live) clearBanner();
  } catch (e) {
    if (!view.live) return undefined;
    failed(e);
    if (current === view && $('view').firstChild?.classList?.contains('loading')) {
      $('view').replaceChildren(h('p', { class: 'empty' }, 'This page could not be loaded.'));
    }
  }
  return undefined;
}

async function signIn(event) {
  event.preventDefault();
  const value = $('token').value.trim();
  if (!value) return;
  setToken(value);
  try {
    await get('/tenants');  // proves the token before showing anything
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signOut('The token was refused (HTTP 401).');
    } else {
      clearToken();
      $('login-error').textContent = e.message;
      $('login-error').hidden = false;
    }
    return;
  }
  $('login-error').hidden = true;
  render();
}

window.addEventListener('hashchange', render);
$('login-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => signOut());
$('banner-close').addEventListener('click', clearBanner);
render();
