// Deployments: the list, and one deployment's live progress (state,
// stage, targets by status, the gate's latest verdict) with its cohort
// chart, refreshed every 1.5 s while it is shown.
import { get } from '../api.js';
import { CohortChart } from '../chart.js';
import { h, replace, route, table } from '../dom.js';
import { ago, stateBadge, verdictBadge, when } from '../format.js';
import { deploymentRows } from './versions.js';

const REFRESH_MS = 1500;
const STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const TARGET_ORDER = ['waiting', 'pending', 'staged', 'acked', 'nacked', 'disconnected', 'reverted'];

export async function deploymentsView(view) {
  const list = h('div', { id: 'deployments' });
  const load = async () => {
    const { deployments } = await get('/deployments');
    replace(list, deployments.length === 0 ? h('p', { class: 'empty' }, 'No deployments yet.')
      : deploymentRows(deployments.slice(0, 100)));
  };
  await load();
  view.title('Deployments');
  view.show(h('h1', {}, 'Deployments'), list);
  view.every(3000, load);
}

// The bucket width for a deployment created at `created`: at most about
// 240 buckets over its life so far plus the two minutes around it.
function stepFor(created) {
  const span = (Date.now() - Date.parse(created)) / 1000 + 120;
  return STEPS_S.find((s) => span / s <= 240) ?? STEPS_S[STEPS_S.length - 1];
}

function instances(n) {
  return n === undefined ? '' : `${n} instance${n === 1 ? '' : 's'}`;
}

function stageBar(rollout) {
  const planned = rollout.plan?.stages ?? [];
  const n = rollout.stages;
  return h('ol', { class: 'stages', id: 'stages' },
    Array.from({ length: n }, (_, i) => {
      const state = i + 1 < rollout.stage ? 'done' : i + 1 === rollout.stage ? 'current' : 'next';
      const label = planned[i] !== undefined ? `${planned[i]}%` : `stage ${i + 1}`;
      return h('li', { class: `stage-${state}` },
        h('strong', {}, label), h('span', {}, instances(rollout.moved_by_stage[i])));
    }));
}

function targetsSummary(targets) {
  const by = {};
  for (const t of targets) by[t.status] = (by[t.status] ?? 0) + 1;
  const statuses = Object.keys(by).sort((a, b) => TARGET_ORDER.indexOf(a) - TARGET_ORDER.indexOf(b));
  return h('p', { class: 'chips', id: 'targets-summary' },
    statuses.length === 0 ? h('span', { class: 'muted' }, 'no targets')
      : statuses.map((s) => h('span', { class: `chip target-${s}`, dataset: { status: s } },
        h('strong', {}, String(by[s])), ` ${s}`)));
}

function overview(d) {
  const r = d.rollout;
  return [
    h('div', { class: 'facts' },
      fact('State', stateBadge(d.state)),
      fact('Strategy', d.strategy),
      fact('Version', r ? `v${r.previous_version} → v${d.version}` : `v${d.version}`),
      fact('Stage', r ? `${r.stage} of ${r.stages} (${r.phase})` : '—'),
      fact('Gate', r ? verdictBadge(r.verdict) : '—'),
      fact('Author', d.author),
      fact('Created', h('span', { title: when(d.created_at) }, ago(d.created_at))),
      fact('Updated', h('span', { title: when(d.updated_at) }, ago(d.updated_at)))),
    d.reason ? h('p', { class: `reason state-${d.state}`, id: 'reason' }, d.reason) : null,
    // The gate's latest reason, unless the end's reason already quotes it.
    r && r.verdict_reason && !d.reason.includes(r.verdict_reason)
      ? h('p', { class: 'verdict-reason' }, h('strong', {}, 'Gate: '), r.verdict_reason) : null,
    r ? stageBar(r) : null,
  ];
}

function fact(name, value) {
  return h('div', { class: 'fact' }, h('span', { class: 'fact-name' }, name), h('span', { class: 'fact-value' }, value));
}

function targetsTable(targets) {
  return table(['Instance', 'Stage', 'Status', 'Detail', 'Updated'],
    targets.map((t) => [t.node_id, String(t.stage), h('span', { class: `chip target-${t.status}` }, t.status),
      t.detail || h('span', { class: 'muted' }, '—'), h('span', { title: when(t.updated_at) }, ago(t.updated_at))]),
    (i) => ({ dataset: { node: targets[i].node_id } }));
}

export async function deploymentView(view, id) {
  const path = `/deployments/${encodeURIComponent(id)}`;
  let d = await get(path);
  const title = h('h1', { id: 'deployment-title' });
  const state = h('div', { id: 'deployment-state' });
  const summary = h('div', { id: 'targets' });
  const details = h('details', { class: 'targets' });
  const chartRoot = h('div', { class: 'chart', id: 'chart' });
  const chartSection = h('section', { class: 'card' },
    h('h2', {}, 'Cohorts over time'),
    h('p', { class: 'muted' }, 'Requests each cohort’s instances reported per bucket: the previous version ' +
      '(baseline) against the new one (canary), on the deployment’s targets.'),
    chartRoot);
  view.title(`Deployment #${id}`);
  view.show(
    h('nav', { class: 'crumbs' }, h('a', { href: route('deployments') }, 'Deployments'), ' / ', `#${id}`),
    title,
    h('section', { class: 'card' }, state),
    h('section', { class: 'card' }, h('h2', {}, 'Targets'), summary, details),
    chartSection,
  );
  const chart = new CohortChart(chartRoot);
  view.onLeave(() => chart.destroy());

  let step = stepFor(d.created_at);
  const render = async () => {
    const series = await get(`${path}/health/series?step=${step}s`);
    replace(title, `#${d.id} `, h('span', { class: 'muted' }, `${d.strategy} of `),
      h('a', { href: route('ns', ...d.namespace.split('/')) }, d.namespace), ` v${d.version} `, stateBadge(d.state));
    replace(state, overview(d));
    replace(summary, targetsSummary(d.targets));
    const open = details.open;
    replace(details, h('summary', {}, `${d.targets.length} instances`), targetsTable(d.targets));
    details.open = open;
    chart.update(series, d);
  };
  await render();
  view.every(REFRESH_MS, async () => {
    d = await get(path);
    step = Math.max(step, stepFor(d.created_at));
    await render();
  });
}
