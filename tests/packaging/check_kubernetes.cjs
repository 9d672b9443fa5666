'use strict';
// deploy/kubernetes/*.yaml: every object validated against its Kubernetes
// schema (npm kubernetes-models), unknown fields refused as the API server's
// strict field validation does, and the pieces fitting together: selectors
// match their pods, Services' target ports are container ports, the control
// StatefulSet keeps --data-dir on its volumeClaimTemplate, app pods share a
// memory-backed /dev/shm between the app and the sidecar, probes GET
// /healthz, tokens come from the Secret's keys.
const fs = require('fs');
const path = require('path');
const { read, yamlDocs, run, replaceOnce, root } = require('./lib.cjs');

const DIR = 'deploy/kubernetes';
const MANIFESTS = fs.readdirSync(path.join(root, DIR)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => `${DIR}/${f}`);

function modelFor(apiVersion, kind) {
  const group = apiVersion.includes('/') ? apiVersion : `v1`;
  let mod;
  try {
    mod = require(`kubernetes-models/${group}`);
  } catch {
    return null;
  }
  return mod[kind] || null;
}

// The validators read each property their schema knows; a key never read
// of an object whose keys they never listed (maps such as labels are listed)
// is a field the schema does not have.
function track(value, at, records) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${at}/${i}`, records));
  if (value === null || typeof value !== 'object') return value;
  const record = { at, keys: Object.keys(value), read: new Set(), listed: false };
  records.push(record);
  const copy = {};
  for (const k of record.keys) copy[k] = track(value[k], `${at}/${k}`, records);
  return new Proxy(copy, {
    get(t, k, r) { if (typeof k === 'string') record.read.add(k); return Reflect.get(t, k, r); },
    has(t, k) { if (typeof k === 'string') record.read.add(k); return Reflect.has(t, k); },
    ownKeys(t) { record.listed = true; return Reflect.ownKeys(t); },
    getOwnPropertyDescriptor(t, k) { if (typeof k === 'string') record.read.add(k); return Reflect.getOwnPropertyDescriptor(t, k); },
  });
}

function validateObject(where, obj) {
  const Model = modelFor(String(obj.apiVersion || ''), String(obj.kind || ''));
  if (!Model) return [`${where}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`];
  const problems = [];
  try {
    const records = [];
    Model.prototype.validate.call(track(obj, '', records));
    for (const r of records) {
      if (r.listed) continue;
      for (const k of r.keys) if (!r.read.has(k)) problems.push(`${where}: unknown field ${r.at}/${k}`);
    }
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
  return problems;
}

const matches = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);

function podChecks(where, spec, claims, secrets, problems) {
  const containers = spec.containers || [];
  const volumes = Object.fromEntries([...(spec.volumes || []), ...claims.map((c) => ({ name: c.metadata?.name, claim: c }))].map((v) => [v.name, v]));
  for (const c of containers) {
    for (const m of c.volumeMounts || []) if (!volumes[m.name]) problems.push(`${where}: container ${c.name} mounts volume ${m.name}, which the pod does not have`);
    for (const e of c.env || []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && !secrets[ref.name]?.includes(ref.key)) problems.push(`${where}: container ${c.name} reads ${e.name} from secret ${ref.name} key ${ref.key}, which ${DIR} does not define`);
    }
    const ports = (c.ports || []).map((p) => p.name);
    for (const kind of ['livenessProbe', 'readinessProbe']) {
      const probe = c[kind]?.httpGet;
      if (probe && typeof probe.port === 'string' && !ports.includes(probe.port)) problems.push(`${where}: container ${c.name}'s ${kind} uses port ${probe.port}, not one of its ports`);
    }
  }
  const sidecar = containers.find((c) => /hotswap-sidecar/.test(c.image || ''));
  const control = containers.find((c) => /hotswap-control/.test(c.image || ''));
  for (const c of [sidecar, control].filter(Boolean)) {
    if (c.livenessProbe?.httpGet?.path !== '/healthz') problems.push(`${where}: container ${c.name} has no liveness probe on /healthz`);
    if (!['/healthz', '/readyz'].includes(c.readinessProbe?.httpGet?.path)) problems.push(`${where}: container ${c.name} has no readiness probe on /healthz or /readyz`);
  }
  if (control) {
    const env = Object.fromEntries((control.env || []).map((e) => [e.name, e]));
    for (const v of ['HOTSWAP_BOOTSTRAP_TOKEN', 'HOTSWAP_BOOTSTRAP_NODE_TOKEN']) if (!env[v]?.valueFrom?.secretKeyRef) problems.push(`${where}: ${v} does not come from a Secret`);
  }
  if (sidecar) {
    const env = Object.fromEntries((sidecar.env || []).map((e) => [e.name, e]));
    if (!env.HOTSWAP_NODE_TOKEN?.valueFrom?.secretKeyRef) problems.push(`${where}: HOTSWAP_NODE_TOKEN does not come from a Secret`);
    // Every other container shares the sidecar's /dev/shm, a memory-backed emptyDir.
    const shm = (sidecar.volumeMounts || []).find((m) => m.mountPath === '/dev/shm');
    if (!shm) problems.push(`${where}: the sidecar does not mount a volume at /dev/shm`);
    else {
      if (volumes[shm.name]?.emptyDir?.medium !== 'Memory') problems.push(`${where}: /dev/shm (volume ${shm.name}) is not an emptyDir with medium: Memory`);
      for (const c of containers.filter((x) => x !== sidecar)) {
        if (!(c.volumeMounts || []).some((m) => m.name === shm.name && m.mountPath === '/dev/shm')) problems.push(`${where}: container ${c.name} does not share the sidecar's /dev/shm (volume ${shm.name})`);
      }
    }
    if (containers.length < 2) problems.push(`${where}: a sidecar without an app container`);
  }
  return { sidecar, control };
}

function check(files) {
  const problems = [];
  const objects = [];
  for (const file of MANIFESTS) {
    let docs;
    try {
      docs = yamlDocs(files[file], file);
    } catch (e) {
      problems.push(e.message);
      continue;
    }
    docs.forEach((obj, i) => {
      const where = `${file}: ${obj.kind || '?'} ${obj.metadata?.name || `#${i + 1}`}`;
      problems.push(...validateObject(where, obj));
      objects.push({ where, obj });
    });
  }
  const secrets = {};
  for (const { obj } of objects.filter((o) => o.obj.kind === 'Secret')) secrets[obj.metadata.name] = Object.keys({ ...obj.data, ...obj.stringData });
  const workloads = objects.filter((o) => ['StatefulSet', 'Deployment'].includes(o.obj.kind));
  let statefulControl = false;
  let appPod = false;
  for (const { where, obj } of workloads) {
    const tpl = obj.spec?.template;
    if (!matches(obj.spec?.selector?.matchLabels, tpl?.metadata?.labels)) problems.push(`${where}: selector does not match the pod template's labels`);
    const { sidecar, control } = podChecks(where, tpl?.spec || {}, obj.spec?.volumeClaimTemplates || [], secrets, problems);
    if (sidecar) appPod = true;
    if (control) {
      if (obj.kind !== 'StatefulSet') problems.push(`${where}: control runs in a ${obj.kind}, not a StatefulSet`);
      const dataDir = (control.args || []).map((a) => /^--data-dir=(.*)$/.exec(a)?.[1]).find(Boolean);
      const claims = (obj.spec?.volumeClaimTemplates || []).map((c) => c.metadata?.name);
      const mount = (control.volumeMounts || []).find((m) => m.mountPath === dataDir);
      if (!dataDir) problems.push(`${where}: control has no --data-dir argument`);
      else if (!mount || !claims.includes(mount.name)) problems.push(`${where}: control's --data-dir ${dataDir} is not on a volumeClaimTemplate`);
      else statefulControl = true;
      const annotations = tpl?.metadata?.annotations || {};
      const http = (control.ports || []).find((p) => p.name === 'http');
      if (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== String(http?.containerPort)) problems.push(`${where}: the pod's prometheus.io annotations do not point at control's http port`);
      if (!objects.some((o) => o.obj.kind === 'Service' && o.obj.metadata?.name === obj.spec?.serviceName)) problems.push(`${where}: serviceName ${obj.spec?.serviceName} is not a Service here`);
    }
    if (sidecar) {
      const annotations = tpl?.metadata?.annotations || {};
      const metrics = (sidecar.env || []).find((e) => e.name === 'HOTSWAP_METRICS_LISTEN')?.value || '';
      if (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== metrics.split(':').pop()) problems.push(`${where}: the pod's prometheus.io annotations do not point at the sidecar's HOTSWAP_METRICS_LISTEN port`);
    }
  }
  if (!statefulControl) problems.push(`${DIR}: no control StatefulSet with its data dir on a volumeClaimTemplate`);
  if (!appPod) problems.push(`${DIR}: no pod with an app and the sidecar`);
  for (const { where, obj } of objects.filter((o) => o.obj.kind === 'Service')) {
    const pods = workloads.filter((w) => matches(obj.spec?.selector, w.obj.spec?.template?.metadata?.labels));
    if (!pods.length) { problems.push(`${where}: selects no pod of ${DIR}`); continue; }
    const ports = pods.flatMap((w) => (w.obj.spec.template.spec.containers || []).flatMap((c) => c.ports || []));
    for (const p of obj.spec?.ports || []) {
      const target = p.targetPort ?? p.port;
      if (!ports.some((cp) => cp.name === target || cp.containerPort === target)) problems.push(`${where}: port ${p.name} targets ${target}, which no selected container exposes`);
    }
  }
  return problems;
}

const files = {};
for (const f of MANIFESTS) files[f] = read(f);
const CONTROL = `${DIR}/control.yaml`;
const APP = `${DIR}/demo-app.yaml`;
run('kubernetes', files, check, [
  { what: 'a misspelt field', file: APP, edit: replaceOnce('          emptyDir:\n            medium: Memory', '          emptyDir:\n            mediun: Memory'), expect: /unknown field \/spec\/template\/spec\/volumes\/0\/emptyDir\/mediun/ },
  { what: 'a wrong type', file: CONTROL, edit: replaceOnce('replicas: 1', 'replicas: one'), expect: /replicas must be integer/ },
  { what: 'a missing required field', file: CONTROL, edit: replaceOnce('        - name: control\n          image:', '        - image:'), expect: /containers\/0 must have required property name/ },
  { what: 'a StatefulSet without its governing Service', file: CONTROL, edit: replaceOnce('  serviceName: hotswap-control-pods\n', '  serviceName: hotswap-control-headless\n'), expect: /serviceName hotswap-control-headless is not a Service here/ },
  { what: '/dev/shm on disk', file: APP, edit: replaceOnce('            medium: Memory\n', ''), expect: /is not an emptyDir with medium: Memory/ },
  { what: 'an app not sharing /dev/shm', file: APP, edit: replaceOnce('              drop: ["ALL"]\n          volumeMounts:\n            - name: shm\n              mountPath: /dev/shm\n        - name: hotswap-sidecar', '              drop: ["ALL"]\n        - name: hotswap-sidecar'), expect: /container app does not share the sidecar's \/dev\/shm/ },
  { what: 'the data dir off the claim', file: CONTROL, edit: replaceOnce('--data-dir=/var/lib/hotswap', '--data-dir=/data'), expect: /--data-dir \/data is not on a volumeClaimTemplate/ },
  { what: 'a liveness probe on another path', file: CONTROL, edit: replaceOnce('          livenessProbe:\n            httpGet:\n              path: /healthz', '          livenessProbe:\n            httpGet:\n              path: /metrics'), expect: /no liveness probe on \/healthz/ },
  { what: 'a token from a key the Secret lacks', file: APP, edit: replaceOnce('key: node-token', 'key: node_token'), expect: /key node_token, which deploy\/kubernetes does not define/ },
  { what: 'a token on the command line', file: CONTROL, edit: replaceOnce('            - name: HOTSWAP_BOOTSTRAP_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: hotswap-tokens\n                  key: bootstrap-token', '            - name: HOTSWAP_BOOTSTRAP_TOKEN\n              value: hs_0000000000000000000000000000000000000000000000000000000000000001'), expect: /HOTSWAP_BOOTSTRAP_TOKEN does not come from a Secret/ },
  { what: 'a Service on a port no container has', file: CONTROL, edit: replaceOnce('      targetPort: rpc', '      targetPort: grpc'), expect: /targets grpc, which no selected container exposes/ },
  { what: 'a selector missing its pods', file: APP, edit: replaceOnce('    matchLabels:\n      app.kubernetes.io/name: demo-web', '    matchLabels:\n      app.kubernetes.io/name: demo'), expect: /selector does not match/ },
  { what: 'scrape annotations on the wrong port', file: APP, edit: replaceOnce('prometheus.io/port: "7702"', 'prometheus.io/port: "7700"'), expect: /annotations do not point at the sidecar's/ },
]);
