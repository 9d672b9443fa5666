'use strict';
// The runtime stages install every shared library the built binaries need:
// each binary (paths from CMake, as NAME=PATH arguments) is matched to the
// stage that copies it; ldd lists its libraries, dpkg -S names each one's
// Debian package, and that package must be one the stage installs or one
// they depend on (dpkg's Depends and Pre-Depends, followed through), as
// apt installs them. Every binary given must ship in some stage, and every
// binary a stage ships must be given.
const { execFileSync } = require('child_process');
const path = require('path');
const { read, dockerStages, run, replaceOnce } = require('./lib.cjs');

const DOCKERFILES = ['docker/control.Dockerfile', 'docker/sidecar.Dockerfile'];

const binaries = new Map();
for (const arg of process.argv.slice(2)) {
  const m = /^([^=]+)=(.+)$/.exec(arg);
  if (!m) { console.error(`runtime_libs: expected NAME=PATH, got ${arg}`); process.exit(2); }
  binaries.set(m[1], m[2]);
}
if (!binaries.size) { console.error('runtime_libs: no binaries given (NAME=PATH ...)'); process.exit(2); }

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
}

// The shared libraries ldd resolves for a binary: [{soname, path}].
function libraries(binary) {
  const out = sh('ldd', [binary]);
  const libs = [];
  for (const line of out.split('\n')) {
    const notFound = /^\s*(\S+) => not found/.exec(line);
    if (notFound) throw new Error(`${binary}: ldd cannot find ${notFound[1]}`);
    const m = /^\s*(\S+) => (\/\S+)/.exec(line) || /^\s*(\/\S+) \(/.exec(line);
    if (m) libs.push({ soname: path.basename(m[1]), path: m[2] || m[1] });
  }
  return libs;
}

// Debian's /usr merge: dpkg knows a file under the path its package ships
// it at, /lib or /usr/lib; ldd may name either. One dpkg -S for all.
function packagesOf(files) {
  const spellings = files.flatMap((f) => [f, f.startsWith('/usr/') ? f.slice(4) : `/usr${f}`]);
  let out = '';
  try {
    out = sh('dpkg', ['-S', ...spellings]);
  } catch (e) {
    out = e.stdout || ''; // exits 1 when some spelling is unknown
  }
  const owner = new Map();
  for (const line of out.split('\n')) {
    const m = /^([^:,]+)(?::[^,:]+)?(?:, [^:]+)*: (\/.*)$/.exec(line);
    if (m) owner.set(m[2], m[1]);
  }
  const result = new Map();
  for (const f of files) result.set(f, owner.get(f) || owner.get(f.startsWith('/usr/') ? f.slice(4) : `/usr${f}`) || null);
  return result;
}

// Every installed package's dependencies (Depends and Pre-Depends, the
// first of alternatives as apt picks it; versions and architecture
// qualifiers dropped), read once from dpkg: the build machine runs the
// image's Debian release.
let dependsOf = null;
function closure(packages) {
  if (!dependsOf) {
    dependsOf = new Map();
    const out = sh('dpkg-query', ['-W', '-f=${Package}\t${Depends}, ${Pre-Depends}\n']);
    for (const line of out.split('\n')) {
      const [pkg, deps] = line.split('\t');
      if (!pkg) continue;
      dependsOf.set(pkg, (deps || '').split(',').map((d) => d.split('|')[0].trim().split(/[\s(:]/)[0]).filter(Boolean));
    }
  }
  const seen = new Set();
  const queue = [...packages];
  while (queue.length) {
    const p = queue.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    // A package not installed here counts alone (stricter, never looser).
    queue.push(...(dependsOf.get(p) || []));
  }
  return seen;
}

function installedBy(stage) {
  const packages = [];
  for (const ins of stage.instructions.filter((i) => i.keyword === 'RUN')) {
    for (const m of ins.raw.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) {
      packages.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith('-')));
    }
  }
  return packages;
}

const libsOf = new Map();
function check(files) {
  const problems = [];
  const shipped = new Set();
  for (const file of DOCKERFILES) {
    for (const stage of dockerStages(files[file]).filter((s) => s.name !== 'build')) {
      const copied = stage.instructions.filter((i) => i.keyword === 'COPY' && i.flags.includes('--from=build'))
        .flatMap((i) => i.raw.trim().split(/\s+/).slice(0, -1).map((a) => path.posix.basename(a)));
      const listed = installedBy(stage);
      const covered = closure(listed);
      for (const name of copied) {
        shipped.add(name);
        const binary = binaries.get(name);
        if (!binary) { problems.push(`${file}: stage ${stage.name} ships ${name}, which this test was not given (add it in tests/packaging/CMakeLists.txt)`); continue; }
        if (!libsOf.has(binary)) {
          const libs = libraries(binary).filter((l) => !/^linux-vdso/.test(l.soname));
          const owners = packagesOf(libs.map((l) => l.path));
          libsOf.set(binary, libs.map((l) => ({ ...l, pkg: owners.get(l.path) })));
        }
        for (const lib of libsOf.get(binary)) {
          const pkg = lib.pkg;
          if (!pkg) problems.push(`${name} needs ${lib.path}, which no Debian package ships (dpkg -S): it cannot be installed in stage ${stage.name} of ${file}`);
          else if (!covered.has(pkg)) problems.push(`${file}: stage ${stage.name} does not install ${pkg} (${lib.soname}, needed by ${name}), nor a package that depends on it`);
        }
      }
    }
  }
  for (const name of binaries.keys()) {
    if (!shipped.has(name)) problems.push(`${name} ships in no runtime stage of ${DOCKERFILES.join(' or ')}`);
  }
  return problems;
}

const files = {};
for (const f of DOCKERFILES) files[f] = read(f);
run('runtime_libs', files, check, [
  { what: 'control\'s stage without prometheus-cpp', file: DOCKERFILES[0], edit: replaceOnce(' libprometheus-cpp-core1.0 ', ' '), expect: /stage control does not install libprometheus-cpp-core1.0 \(libprometheus-cpp-core\.so\.1\.0, needed by hotswap-control\)/ },
  { what: 'the sidecar\'s stage without Cap\'n Proto', file: DOCKERFILES[1], edit: replaceOnce('libcapnp-0.9.2 ', ''), expect: /stage sidecar does not install libcapnp-0.9.2/ },
  { what: 'control\'s stage without SQLite', file: DOCKERFILES[0], edit: replaceOnce('libsqlite3-0 ', ''), expect: /does not install libsqlite3-0/ },
  { what: 'the apps\' stage without the C++ runtime', file: DOCKERFILES[1], edit: replaceOnce('--no-install-recommends libstdc++6 ', '--no-install-recommends ca-certificates '), expect: /stage example-app does not install libstdc\+\+6/ },
  { what: 'a binary the stages do not ship', file: DOCKERFILES[0], edit: replaceOnce(' /opt/hotswap/bin/hotswapctl /usr/local/bin/', ' /usr/local/bin/'), expect: /hotswapctl ships in no runtime stage/ },
  { what: 'a binary the test was not given', file: DOCKERFILES[1], edit: replaceOnce('/opt/hotswap/bin/hotswap-watch /usr/local/bin/', '/opt/hotswap/bin/hotswap-watch /opt/hotswap/bin/hotswap-other /usr/local/bin/'), expect: /ships hotswap-other, which this test was not given/ },
]);
