'use strict';
// The Grafana dashboard and the Prometheus alert rules against
// docs/metrics.md: valid JSON and YAML; every PromQL expression parsed by
// promtool; every hotswap_ metric and every label an expression or legend
// uses documented (histogram series by their _bucket/_sum/_count); every
// documented metric on the dashboard; the panels on the provisioned
// datasource; the provisioning pointing at files that exist.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { read, yamlDoc, documentedMetrics, run, replaceOnce, root } = require('./lib.cjs');

const DASHBOARD = 'docker/grafana/dashboards/hotswap.json';
const ALERTS = 'docker/prometheus/alerts.yml';
const DATASOURCES = 'docker/grafana/provisioning/datasources/prometheus.yaml';
const PROVIDERS = 'docker/grafana/provisioning/dashboards/hotswap.yaml';
const COMPOSE = 'docker/compose.yaml';
const METRICS = 'docs/metrics.md';
// Labels Prometheus itself adds to every scraped series.
const TARGET_LABELS = ['instance', 'job'];
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset',
  'bool', 'and', 'or', 'unless', 'inf', 'nan']);

function metricsOf(expr, documented) {
  const used = [];
  const problems = [];
  for (const m of expr.matchAll(/\b(hotswap_[a-zA-Z0-9_:]*)/g)) {
    const name = m[1];
    if (documented.has(name)) { used.push({ name, series: name }); continue; }
    const hist = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (hist && documented.get(hist[1])?.type === 'histogram') {
      used.push({ name: hist[1], series: name, bucket: hist[2] === 'bucket' });
      continue;
    }
    problems.push(`${name} is not in ${METRICS}`);
  }
  return { used, problems };
}

// Labels named in by()/without()/on()/ignoring() groups and in {...} matchers.
function labelsOf(expr) {
  const labels = [];
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    labels.push(...m[1].split(',').map((s) => s.trim()).filter(Boolean));
  }
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(matcher[1]);
  }
  return labels;
}

function checkExpr(where, expr, documented, extraLabels = []) {
  const problems = [];
  const { used, problems: unknown } = metricsOf(expr, documented);
  problems.push(...unknown.map((p) => `${where}: ${p}`));
  if (!used.length && !unknown.length) problems.push(`${where}: uses no hotswap_ metric: ${expr}`);
  const allowed = new Set([...TARGET_LABELS, ...extraLabels]);
  for (const u of used) {
    documented.get(u.name).labels.forEach((l) => allowed.add(l));
    if (u.bucket) allowed.add('le');
  }
  for (const label of labelsOf(expr)) {
    if (!allowed.has(label) && !PROMQL_WORDS.has(label)) {
      problems.push(`${where}: label "${label}" is not a label of ${used.map((u) => u.series).join(', ')} (${METRICS})`);
    }
  }
  return { problems, used, allowed };
}

// Every expression through promtool's PromQL parser and evaluator: a unit
// test of instant queries over no series, which fails naming the expression
// that does not parse.
function promtoolParse(exprs) {
  if (!exprs.length) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotswap-promql-'));
  try {
    const tests = exprs.map((e) => ({ expr: e.expr, eval_time: '0m', exp_samples: [] }));
    const file = path.join(dir, 'parse_test.yml');
    fs.writeFileSync(file, JSON.stringify({ rule_files: [], tests: [{ interval: '1m', input_series: [], promql_expr_test: tests }] }));
    try {
      execFileSync('promtool', ['test', 'rules', file], { encoding: 'utf8', stdio: 'pipe', timeout: 30000 });
      return [];
    } catch (e) {
      if (e.code === 'ENOENT') return ['promtool not found (Debian package prometheus, scripts/install-deps.sh)'];
      const out = `${e.stdout || ''}${e.stderr || ''}`;
      const bad = exprs.filter((x) => out.includes(x.expr.split('\n')[0].slice(0, 40)));
      return [`promtool refused ${bad.length ? bad.map((b) => b.where).join(', ') : 'an expression'}: ${out.trim().split('\n').slice(-3).join(' ')}`];
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Grafana's variables and interval macros as values a query could have.
function concrete(expr) {
  return expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?sidecar\}?/g, '.*');
}

function check(files) {
  const problems = [];
  const documented = documentedMetrics(files[METRICS]);
  if (documented.size === 0) return [`no metric tables found in ${METRICS}`];
  const toParse = [];

  // Dashboard.
  let dash;
  try {
    dash = JSON.parse(files[DASHBOARD]);
  } catch (e) {
    return [`${DASHBOARD} is not valid JSON: ${e.message}`];
  }
  const datasources = yamlDoc(files[DATASOURCES], DATASOURCES).datasources || [];
  const dsUids = new Set(datasources.map((d) => d.uid));
  const shown = new Set();
  const ids = new Set();
  const variables = (dash.templating?.list || []);
  for (const v of variables) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const lv = /^label_values\((hotswap_[a-z0-9_]+),\s*([a-z_]+)\)$/.exec(q || '');
    if (!lv) { problems.push(`${DASHBOARD}: variable ${v.name}: expected label_values(<metric>, <label>), got ${q}`); continue; }
    const r = checkExpr(`${DASHBOARD}: variable ${v.name}`, `${lv[1]}`, documented);
    problems.push(...r.problems);
    if (!r.allowed.has(lv[2])) problems.push(`${DASHBOARD}: variable ${v.name}: ${lv[1]} has no label ${lv[2]}`);
    if (!dsUids.has(v.datasource?.uid)) problems.push(`${DASHBOARD}: variable ${v.name}: datasource uid ${v.datasource?.uid} is not provisioned (${DATASOURCES})`);
  }
  const panels = dash.panels || [];
  if (!panels.some((p) => p.type !== 'row')) problems.push(`${DASHBOARD}: no panels`);
  for (const p of panels) {
    if (ids.has(p.id)) problems.push(`${DASHBOARD}: panel id ${p.id} used twice`);
    ids.add(p.id);
    if (p.type === 'row') continue;
    const where = `${DASHBOARD}: panel "${p.title}"`;
    if (!dsUids.has(p.datasource?.uid)) problems.push(`${where}: datasource uid ${p.datasource?.uid} is not provisioned (${DATASOURCES})`);
    if (!p.targets?.length) problems.push(`${where}: no query`);
    for (const t of p.targets || []) {
      if (!t.expr) { problems.push(`${where} ${t.refId}: empty expr`); continue; }
      const r = checkExpr(`${where} ${t.refId}`, t.expr, documented);
      problems.push(...r.problems);
      r.used.forEach((u) => shown.add(u.name));
      for (const m of (t.legendFormat || '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
        if (!r.allowed.has(m[1])) problems.push(`${where} ${t.refId}: legend label "${m[1]}" is not a label of the query`);
      }
      toParse.push({ where: `${where} ${t.refId}`, expr: concrete(t.expr) });
    }
  }
  for (const name of documented.keys()) {
    if (!shown.has(name)) problems.push(`${DASHBOARD}: no panel shows ${name} (${METRICS})`);
  }

  // Alert rules.
  const rules = yamlDoc(files[ALERTS], ALERTS);
  const alerts = (rules.groups || []).flatMap((g) => g.rules || []);
  if (!alerts.length) problems.push(`${ALERTS}: no rules`);
  for (const rule of alerts) {
    const where = `${ALERTS}: ${rule.alert || rule.record}`;
    if (!rule.alert) { problems.push(`${where}: not an alert`); continue; }
    const r = checkExpr(where, String(rule.expr || ''), documented);
    problems.push(...r.problems);
    if (!rule.for) problems.push(`${where}: no for:`);
    if (!['critical', 'warning', 'info'].includes(rule.labels?.severity)) problems.push(`${where}: severity label must be critical, warning or info, got ${rule.labels?.severity}`);
    for (const a of ['summary', 'description']) if (!rule.annotations?.[a]) problems.push(`${where}: no ${a} annotation`);
    for (const text of Object.values(rule.annotations || {})) {
      for (const m of String(text).matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
        if (!r.allowed.has(m[1])) problems.push(`${where}: annotation uses $labels.${m[1]}, not a label of the expression`);
      }
    }
    toParse.push({ where, expr: String(rule.expr) });
  }

  // Provisioning: the provider's folder is what compose mounts from a folder
  // holding this dashboard; the datasource's URL is a compose service.
  const compose = yamlDoc(files[COMPOSE], COMPOSE);
  const grafana = compose.services?.grafana;
  if (!grafana) problems.push(`${COMPOSE}: no grafana service`);
  const mounts = (grafana?.volumes || []).map((v) => String(v).split(':')).filter((v) => v[0].startsWith('.'));
  const providers = yamlDoc(files[PROVIDERS], PROVIDERS).providers || [];
  if (!providers.length) problems.push(`${PROVIDERS}: no providers`);
  for (const provider of providers) {
    const inContainer = provider.options?.path;
    const mount = mounts.find(([, target]) => inContainer === target || inContainer?.startsWith(`${target}/`));
    if (!mount) { problems.push(`${PROVIDERS}: provider ${provider.name} reads ${inContainer}, which compose's grafana service does not mount`); continue; }
    const hostDir = path.join(root, 'docker', mount[0], path.relative(mount[1], inContainer));
    if (!fs.existsSync(path.join(hostDir, path.basename(DASHBOARD)))) problems.push(`${PROVIDERS}: provider ${provider.name} reads ${inContainer} = ${path.relative(root, hostDir)}, which does not hold ${path.basename(DASHBOARD)}`);
  }
  const provisioning = mounts.find(([, target]) => target === '/etc/grafana/provisioning');
  if (!provisioning || path.normalize(path.join('docker', provisioning[0])) !== 'docker/grafana/provisioning') problems.push(`${COMPOSE}: grafana must mount ./grafana/provisioning at /etc/grafana/provisioning`);
  for (const d of datasources) {
    const host = /^https?:\/\/([^:/]+)/.exec(d.url || '')?.[1];
    if (!host || !compose.services?.[host]) problems.push(`${DATASOURCES}: datasource ${d.name} points at ${d.url}, not a compose service`);
  }

  problems.push(...promtoolParse(toParse));
  return problems;
}

const files = {};
for (const f of [DASHBOARD, ALERTS, DATASOURCES, PROVIDERS, COMPOSE, METRICS]) files[f] = read(f);

run('observability', files, check, [
  { what: 'a misspelt metric in a panel', file: DASHBOARD, edit: replaceOnce('hotswap_control_push_ack_seconds_bucket', 'hotswap_control_push_ack_second_bucket'), expect: /hotswap_control_push_ack_second_bucket is not in/ },
  { what: 'a label the metric does not have', file: DASHBOARD, edit: replaceOnce('sum by (verdict)', 'sum by (outcome)'), expect: /label "outcome" is not a label/ },
  { what: 'a legend naming a label the query dropped', file: DASHBOARD, edit: replaceOnce('"{{verdict}}"', '"{{strategy}}"'), expect: /legend label "strategy"/ },
  { what: 'PromQL that does not parse', file: DASHBOARD, edit: replaceOnce('sum by (state) (hotswap_control_deployments_active)', 'sum by (state) (hotswap_control_deployments_active'), expect: /promtool refused/ },
  { what: 'a trailing comma (not JSON)', file: DASHBOARD, edit: (t) => t.replace(/\}\s*$/, '},\n'), expect: /not valid JSON/ },
  { what: 'a panel on another datasource', file: DASHBOARD, edit: replaceOnce('"uid": "hotswap-prometheus"', '"uid": "prometheus"'), expect: /datasource uid prometheus is not provisioned/ },
  { what: 'a documented metric no panel shows', file: METRICS, edit: (t) => t.replace('| `hotswap_sidecar_connected` |', '| `hotswap_sidecar_new_gauge` | gauge | | a new one |\n| `hotswap_sidecar_connected` |'), expect: /no panel shows hotswap_sidecar_new_gauge/ },
  { what: 'an alert on a misspelt metric', file: ALERTS, edit: replaceOnce('hotswap_control_instances{status="stale"}', 'hotswap_control_instance{status="stale"}'), expect: /hotswap_control_instance is not in/ },
  { what: 'an alert without for:', file: ALERTS, edit: replaceOnce('        for: 2m\n', ''), expect: /no for:/ },
  { what: 'an alert without severity', file: ALERTS, edit: replaceOnce('severity: critical', 'severity: page'), expect: /severity label/ },
  { what: 'an annotation naming a label the alert lacks', file: ALERTS, edit: replaceOnce('A {{ $labels.strategy }} deployment failed', 'A {{ $labels.namespace }} deployment failed'), expect: /\$labels\.namespace/ },
  { what: 'a provider reading a folder compose does not mount', file: PROVIDERS, edit: replaceOnce('/var/lib/grafana/dashboards', '/etc/dashboards'), expect: /does not mount/ },
  { what: 'dashboards mounted from a folder without the dashboard', file: COMPOSE, edit: replaceOnce('./grafana/dashboards:', './grafana:'), expect: /does not hold hotswap.json/ },
  { what: 'a datasource on a host compose does not run', file: DATASOURCES, edit: replaceOnce('http://prometheus:9090', 'http://prom:9090'), expect: /not a compose service/ },
]);
