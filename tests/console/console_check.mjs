// Drives Debian's chromium (headless, through playwright-core; never a
// downloaded browser) over hotswap's web console against the real control
// that console_test.cc started, with a canary of a bad version running.
// Prints "ok - ..." per check and "deployment page live" when the page
// shows the canary running (the test then starts the canary's failing
// application); exits 1 at the first failed check, naming it.
//
// Environment: CONSOLE_URL, CONSOLE_TOKEN, CONSOLE_TENANT,
// CONSOLE_NAMESPACE, CONSOLE_DEPLOYMENT, CONSOLE_NODE_MODULES (where
// `npm ci` put playwright-core), CONSOLE_SCREENSHOT (a PNG to write),
// CONSOLE_PROFILE_DIR (a fresh directory for chromium's profile).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const URL_ = env('CONSOLE_URL');
const TOKEN = env('CONSOLE_TOKEN');
const TENANT = env('CONSOLE_TENANT');
const NS = env('CONSOLE_NAMESPACE');
const DEPLOYMENT = env('CONSOLE_DEPLOYMENT');
const require = createRequire(path.join(env('CONSOLE_NODE_MODULES'), 'noop.js'));
const { chromium } = require('playwright-core');

// How long the page may take to show a rollback control already reports.
const ROLLBACK_SHOWN_MS = 5000;

let checks = 0;
function ok(what) {
  checks += 1;
  console.log(`ok - ${what}`);
}
function fail(what) {
  throw new Error(what);
}

async function api(p) {
  const res = await fetch(`${URL_}/api/v1${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!res.ok) fail(`GET ${p}: HTTP ${res.status}`);
  return res.json();
}

// Waits for `fn` (in node) to return a truthy value, at most `ms`.
async function until(what, ms, fn) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) fail(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

fs.mkdirSync(env('CONSOLE_PROFILE_DIR'), { recursive: true });
const context = await chromium.launchPersistentContext(env('CONSOLE_PROFILE_DIR'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(15000);

// Everything that went wrong in the page: console errors, uncaught
// exceptions, requests that failed or were answered >= 400.
const problems = [];
let watching = true;
page.on('console', (m) => {
  if (watching && (m.type() === 'error' || m.type() === 'warning')) problems.push(`console ${m.type()}: ${m.text()}`);
});
page.on('pageerror', (e) => watching && problems.push(`page error: ${e.message}`));
page.on('requestfailed', (r) => watching && problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
page.on('response', (r) => watching && r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
const noProblems = (when) => {
  if (problems.length) fail(`${when}: ${problems.join('; ')}`);
  ok(`no console errors or failed requests ${when}`);
};

let status = 0;
try {
  // The page and the login form, with nothing failing on the way.
  await page.goto(URL_ + '/');
  await page.waitForSelector('#login:not([hidden])');
  await page.waitForLoadState('networkidle');
  noProblems('on load');

  await page.fill('#token', TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector(`tr[data-tenant="${TENANT}"]`);
  if (!(await page.isHidden('#login'))) fail('the login form stayed after signing in');
  ok('signed in; the tenant is listed');

  // Tenant -> namespaces -> versions -> diff, by clicking as a person would.
  await page.click(`tr[data-tenant="${TENANT}"] a`);
  const nsRow = await page.waitForSelector(`tr[data-namespace="${NS}"]`);
  const nsText = await nsRow.textContent();
  if (!nsText.includes('v2')) fail(`the namespace row does not show latest version v2: ${nsText}`);
  ok('the namespace list shows the namespace at v2');

  await page.click(`tr[data-namespace="${NS}"] a`);
  await page.waitForSelector('tr[data-version="2"]');
  await page.waitForSelector('tr[data-version="1"]');
  await page.waitForSelector(`tr[data-deployment="${DEPLOYMENT}"]`);
  ok('the namespace page lists versions 1 and 2 and the deployment');

  await page.click('form.compare button[type=submit]');
  await page.waitForSelector('#diff');
  const kinds = await page.$$eval('#diff tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.key, r.dataset.kind])));
  const want = {
    name: 'changed', timeout: 'changed', limit: 'same',
    retry: 'added', error_rate: 'added', legacy_mode: 'removed',
  };
  if (JSON.stringify(Object.keys(kinds).sort()) !== JSON.stringify(Object.keys(want).sort())
      || Object.entries(want).some(([k, v]) => kinds[k] !== v)) {
    fail(`diff rows ${JSON.stringify(kinds)}, expected ${JSON.stringify(want)}`);
  }
  const cells = await page.$$eval('#diff tr[data-key="name"] td', (tds) => tds.map((t) => t.textContent));
  if (!cells[1].includes('"checkout"') || !cells[2].includes('"checkout-v2"')) {
    fail(`the changed value is not shown side by side: ${JSON.stringify(cells)}`);
  }
  ok('the diff shows added, removed, changed and unchanged keys side by side');

  // A secret that changed: masked on both sides, as the API masks it.
  const [tenant] = NS.split('/');
  await page.goto(`${URL_}/#/ns/${encodeURIComponent(tenant)}/vault/diff/1/2`);
  await page.waitForSelector('#diff tr[data-key="db_password"]');
  const secret = await page.$$eval('#diff tr[data-key="db_password"] td', (tds) => tds.map((t) => t.textContent));
  const kind = await page.getAttribute('#diff tr[data-key="db_password"]', 'data-kind');
  if (kind !== 'changed' || !secret[1].includes('***') || !secret[2].includes('***')) {
    fail(`the changed secret is not shown masked on both sides: ${kind} ${JSON.stringify(secret)}`);
  }
  const html = await page.content();
  if (html.includes('hunter2') || html.includes('swordfish')) fail('a secret value reached the page');
  ok('a changed secret shows as changed, masked on both sides');

  // The deployment, live.
  await page.click('#nav a[data-section="deployments"]');
  await page.click(`tr[data-deployment="${DEPLOYMENT}"] a`);
  await page.waitForSelector('#deployment-title [data-state="running"]');
  await page.waitForSelector('#targets-summary [data-status]');
  await page.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.baselinePoints) > 0);
  const legends = await page.$$eval('#chart .u-legend .u-series .u-label', (ls) => ls.map((l) => l.textContent));
  if (!legends.some((l) => l.includes('baseline v1')) || !legends.some((l) => l.includes('canary v2'))) {
    fail(`the chart's legend lacks the cohorts: ${JSON.stringify(legends)}`);
  }
  ok('the deployment page shows the canary running, its targets and the baseline plotted');
  console.log('deployment page live');

  // The test now starts the canary's failing application; the gate rolls
  // it back. The page must show it by itself, without a reload.
  const navigations = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
  await until('control rolls the canary back', 90000,
    async () => (await api(`/deployments/${DEPLOYMENT}`)).state === 'rolled-back');
  const rolledBack = Date.now();
  await page.waitForSelector('#deployment-title [data-state="rolled-back"]', { timeout: ROLLBACK_SHOWN_MS });
  const shownAfter = Date.now() - rolledBack;
  if (navigations.some((u) => !u.includes('#/deployments/'))) fail(`the page navigated: ${navigations}`);
  ok(`the page showed rolled-back ${shownAfter} ms after control did, without a reload`);

  await page.waitForFunction(() => {
    const d = document.querySelector('#chart')?.dataset;
    return d && Number(d.canaryPoints) > 0 && Number(d.baselinePoints) > 0 && Number(d.decisions) > 0;
  });
  const chart = await page.$eval('#chart', (c) => ({ ...c.dataset, canvases: c.querySelectorAll('canvas').length }));
  if (chart.canvases < 2) fail(`the chart has ${chart.canvases} canvases`);
  const reason = await page.textContent('#reason');
  if (!reason.includes('gate:')) fail(`the page does not give the gate's reason: ${reason}`);
  ok(`the chart plots both cohorts (baseline ${chart.baselinePoints} points, canary ` +
     `${chart.canaryPoints}) and ${chart.decisions} gate decisions; the reason is shown`);

  await page.screenshot({ path: env('CONSOLE_SCREENSHOT'), fullPage: true });
  ok(`screenshot in ${env('CONSOLE_SCREENSHOT')}`);
  noProblems('while browsing and following the rollout');

  // A wrong token: the form comes back, naming the refusal. Chromium logs
  // the 401 answers themselves, which are expected here.
  watching = false;
  await page.click('#sign-out');
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', 'hs_wrong0000000000000000000000000000000');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#login-error:not([hidden])');
  const refused = await page.textContent('#login-error');
  if (!refused.includes('401')) fail(`the login form does not say the token was refused: ${refused}`);
  if (await page.isVisible('#view')) fail('data views are shown with a wrong token');
  ok('a wrong token brings the login form back, naming the 401');

  // A stored token that stops working (revoked, expired): the next call's
  // 401 brings the form back too.
  await page.evaluate(() => sessionStorage.setItem('hotswap.token', 'hs_revoked000000000000000000000000000'));
  await page.goto(`${URL_}/#/deployments/${DEPLOYMENT}`);
  await page.waitForSelector('#login-error:not([hidden])');
  ok('a token refused while browsing brings the login form back');
  console.log(`${checks} passed, 0 failed`);
} catch (e) {
  console.log(`not ok - ${e.message}`);
  console.log(`${checks} passed, 1 failed`);
  try {
    await page.screenshot({ path: env('CONSOLE_SCREENSHOT').replace(/\.png$/, '-failed.png'), fullPage: true });
  } catch {
    // the browser may be gone
  }
  status = 1;
} finally {
  await context.close();
}
process.exit(status);
