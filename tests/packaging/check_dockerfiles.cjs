'use strict';
// docker/*.Dockerfile: parsed (dockerfile-ast) and linted (dockerfilelint,
// every rule on: a finding fails); built as CI builds (the build stage runs
// scripts/install-deps.sh and `make install`, whose `build` prerequisite is
// the one CI's `make test` builds); each runtime stage on bookworm-slim, as
// a user that is not root, with a health check on /healthz where it serves
// one, and an entrypoint it ships.
const path = require('path');
const dockerfilelint = require('dockerfilelint');
const { read, dockerStages, run, replaceOnce, root } = require('./lib.cjs');

const DOCKERFILES = ['docker/control.Dockerfile', 'docker/sidecar.Dockerfile'];
const MAKEFILE = 'Makefile';
const CI = '.ci/run';
// Stages that serve /healthz, and the variable naming the port.
const HEALTH = { control: 'HOTSWAP_HTTP_LISTEN', sidecar: 'HOTSWAP_METRICS_LISTEN' };

// The binaries a stage copies from the build stage (COPY --from=build SRC... DEST).
function copiedFromBuild(stage) {
  return stage.instructions.filter((i) => i.keyword === 'COPY' && i.flags.includes('--from=build'))
    .flatMap((i) => i.raw.trim().split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1).map((a) => path.posix.basename(a)));
}

function makeTarget(makefile, target) {
  const m = new RegExp(`^${target}:([^\\n]*)\\n((?:\\t[^\\n]*\\n)*)`, 'm').exec(makefile);
  return m ? { prerequisites: m[1].trim().split(/\s+/).filter(Boolean), recipe: m[2] } : null;
}

function check(files) {
  const problems = [];
  // What CI builds: .ci/run runs `make test`, which builds the `build` target.
  const ci = files[CI];
  if (!/^\s*(HOTSWAP_FUZZ_SECONDS=\S+\s+)?make test\b/m.test(ci)) problems.push(`${CI} no longer runs "make test": update what the images build`);
  const test = makeTarget(files[MAKEFILE], 'test');
  const install = makeTarget(files[MAKEFILE], 'install');
  if (!test?.prerequisites.includes('build')) problems.push(`${MAKEFILE}: "test" no longer depends on "build"`);
  if (!install?.prerequisites.includes('build')) problems.push(`${MAKEFILE}: "install" no longer depends on "build"`);
  if (!/cmake --install \$\(BUILD_DIR\) --prefix \$\(PREFIX\)/.test(install?.recipe || '')) problems.push(`${MAKEFILE}: "install" no longer runs cmake --install into PREFIX`);

  for (const file of DOCKERFILES) {
    const text = files[file];
    for (const finding of dockerfilelint.run(path.join(root, 'tests', 'packaging'), text)) {
      problems.push(`${file}:${finding.line}: dockerfilelint ${finding.rule}: ${finding.title}`);
    }
    let stages;
    try {
      stages = dockerStages(text);
    } catch (e) {
      problems.push(`${file}: ${e.message}`);
      continue;
    }
    const build = stages.find((s) => s.name === 'build');
    if (!build) { problems.push(`${file}: no stage named build`); continue; }
    if (build.image !== 'debian:bookworm') problems.push(`${file}: the build stage is FROM ${build.image}, not debian:bookworm (what CI builds on)`);
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.raw);
    const depsAt = runs.findIndex((r) => /\bbash scripts\/install-deps\.sh\b/.test(r));
    const makeAt = runs.findIndex((r) => /\bmake install\b.*\bPREFIX=\S+/.test(r));
    if (depsAt < 0) problems.push(`${file}: the build stage does not run "bash scripts/install-deps.sh"`);
    if (makeAt < 0) problems.push(`${file}: the build stage does not run "make install PREFIX=..."`);
    if (depsAt >= 0 && makeAt >= 0 && depsAt > makeAt) problems.push(`${file}: the build stage runs make before scripts/install-deps.sh`);
    if (runs.some((r) => /\b(cmake|g\+\+|gcc|ninja)\b/.test(r))) problems.push(`${file}: the build stage builds outside the Makefile (cmake, a compiler): build only with make, as CI does`);

    for (const stage of stages.filter((s) => s !== build)) {
      const where = `${file}: stage ${stage.name}`;
      if (stage.image !== 'debian:bookworm-slim') problems.push(`${where} is FROM ${stage.image}, not debian:bookworm-slim`);
      const users = stage.instructions.filter((i) => i.keyword === 'USER');
      const user = users.length ? users[users.length - 1].args[0] : 'root';
      if (['root', '0'].includes(user.split(':')[0])) problems.push(`${where} runs as root (no USER, or USER ${user})`);
      const copied = copiedFromBuild(stage);
      const entry = stage.instructions.filter((i) => i.keyword === 'ENTRYPOINT').pop();
      const program = entry ? (() => { try { return JSON.parse(entry.raw)[0]; } catch { return entry.args[0]; } })() : null;
      if (!program) problems.push(`${where} has no ENTRYPOINT`);
      else if (!copied.includes(program)) problems.push(`${where}'s ENTRYPOINT ${program} is not a binary it copies from the build`);
      const health = stage.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
      if (HEALTH[stage.name]) {
        const want = new RegExp(`\\$\\{${HEALTH[stage.name]}##\\*:\\}/healthz`);
        if (!health.length) problems.push(`${where} has no HEALTHCHECK`);
        else if (!want.test(health[health.length - 1].raw)) problems.push(`${where}'s HEALTHCHECK does not GET /healthz on the port of ${HEALTH[stage.name]}`);
        const env = stage.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.raw).join(' ');
        if (!new RegExp(`${HEALTH[stage.name]}=0\\.0\\.0\\.0:\\d+`).test(env)) problems.push(`${where} does not set ${HEALTH[stage.name]} to listen on every address (0.0.0.0:PORT)`);
      }
    }
    for (const name of Object.keys(HEALTH)) {
      if (stages.some((s) => s.name === name) && !stages.find((s) => s.name === name).instructions.some((i) => i.keyword === 'HEALTHCHECK')) {
        problems.push(`${file}: stage ${name} has no HEALTHCHECK`);
      }
    }
  }
  return problems;
}

const files = { [MAKEFILE]: read(MAKEFILE), [CI]: read(CI) };
for (const f of DOCKERFILES) files[f] = read(f);
run('dockerfiles', files, check, [
  { what: 'apt-get install without --no-install-recommends (lint)', file: DOCKERFILES[0], edit: replaceOnce('apt-get install -y --no-install-recommends \\', 'apt-get install -y \\'), expect: /dockerfilelint apt-get_recommends/ },
  { what: 'an invalid port (lint)', file: DOCKERFILES[1], edit: replaceOnce('EXPOSE 7702', 'EXPOSE 77020'), expect: /dockerfilelint invalid_port/ },
  { what: 'a build stage without install-deps.sh', file: DOCKERFILES[0], edit: replaceOnce('RUN bash scripts/install-deps.sh &&', 'RUN apt-get update &&'), expect: /does not run "bash scripts\/install-deps.sh"/ },
  { what: 'a build stage calling cmake itself', file: DOCKERFILES[1], edit: replaceOnce('RUN make install PREFIX=/opt/hotswap BUILD_DIR=/build', 'RUN cmake -S . -B /build && cmake --build /build && cmake --install /build --prefix /opt/hotswap'), expect: /does not run "make install|builds outside the Makefile/ },
  { what: 'a runtime stage running as root', file: DOCKERFILES[0], edit: replaceOnce('USER hotswap\n', ''), expect: /stage control runs as root/ },
  { what: 'a sidecar without a health check', file: DOCKERFILES[1], edit: (t) => t.replace(/HEALTHCHECK [^\n]*\\\n[^\n]*\n(ENTRYPOINT \["hotswap-sidecar"\])/, '$1'), expect: /stage sidecar has no HEALTHCHECK/ },
  { what: 'a health check on another path', file: DOCKERFILES[0], edit: replaceOnce('/healthz" || exit 1', '/metrics" || exit 1'), expect: /does not GET \/healthz/ },
  { what: 'a runtime stage on another base', file: DOCKERFILES[1], edit: replaceOnce('FROM debian:bookworm-slim AS sidecar', 'FROM ubuntu:24.04 AS sidecar'), expect: /not debian:bookworm-slim/ },
  { what: 'an entrypoint the stage does not ship', file: DOCKERFILES[1], edit: replaceOnce('ENTRYPOINT ["hotswap-example-service"]', 'ENTRYPOINT ["hotswap-sidecar"]'), expect: /ENTRYPOINT hotswap-sidecar is not a binary it copies/ },
  { what: 'install no longer building what CI builds', file: MAKEFILE, edit: replaceOnce('install: build', 'install: configure'), expect: /"install" no longer depends on "build"/ },
]);
