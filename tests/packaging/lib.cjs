'use strict';
// What the packaging checks share: reading the tree, YAML, the metrics of
// docs/metrics.md, Dockerfile stages, and the runner that checks the real
// files and then proves each check refuses a broken copy.
const fs = require('fs');
const path = require('path');

const root = process.env.HOTSWAP_SOURCE_DIR;
if (!root || !fs.existsSync(path.join(root, 'docs', 'metrics.md'))) {
  console.error('HOTSWAP_SOURCE_DIR must name the source tree (with docs/metrics.md)');
  process.exit(2);
}

let YAML;
try {
  YAML = require('yaml');
} catch (e) {
  console.error(`npm packages missing (${e.message}); the packaging_npm_ci test installs them`);
  process.exit(2);
}

function read(rel) {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

// Every document of a YAML text, merge keys (<<) resolved as Compose does.
function yamlDocs(text, where) {
  const docs = YAML.parseAllDocuments(text, { merge: true });
  const out = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${where}: ${doc.errors[0].message}`);
    const value = doc.toJS({ maxAliasCount: 1000 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function yamlDoc(text, where) {
  const docs = yamlDocs(text, where);
  if (docs.length !== 1) throw new Error(`${where}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}

// docs/metrics.md's tables: name -> {type, labels}.
function documentedMetrics(text = read('docs/metrics.md')) {
  const metrics = new Map();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`(hotswap_[a-z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const type = m[2].trim().split(/\s+/)[0];
    // Label names are the backticked words outside parentheses (the values).
    let labelText = m[3];
    while (/\([^()]*\)/.test(labelText)) labelText = labelText.replace(/\([^()]*\)/g, '');
    const labels = [...labelText.matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)].map((x) => x[1]);
    const known = metrics.get(m[1]);
    if (known) labels.forEach((l) => known.labels.add(l));
    else metrics.set(m[1], { type, labels: new Set(labels) });
  }
  return metrics;
}

// The stages of a Dockerfile, parsed by dockerfile-ast: name, base image,
// instructions ({keyword, args, flags (--name=value), raw text, line}).
function dockerStages(text) {
  const { DockerfileParser } = require('dockerfile-ast');
  const dockerfile = DockerfileParser.parse(text);
  const stages = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;
    const args = instruction.getArguments().map((a) => a.getValue());
    const raw = instruction.getRawArgumentsContent() || '';
    if (keyword === 'FROM') {
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({
        name: asIndex >= 0 ? args[asIndex + 1] : String(stages.length),
        image: args.find((a) => !a.startsWith('--')),
        line,
        instructions: [],
      });
      continue;
    }
    if (!stages.length) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: ${keyword} before the first FROM`);
      continue;
    }
    const flags = typeof instruction.getFlags === 'function'
      ? instruction.getFlags().map((f) => `--${f.getName()}${f.getValue() === null ? '' : `=${f.getValue()}`}`) : [];
    stages[stages.length - 1].instructions.push({ keyword, args, flags, raw: raw.replace(/\\\n/g, ' '), line });
  }
  return stages;
}

// Runs check(files) on the real files (must find nothing), then on each
// mutation (must find a problem matching its pattern). Exits non-zero,
// naming every problem and every mutation a check missed.
function run(name, files, check, mutations) {
  let failed = false;
  const problems = check(files);
  for (const p of problems) {
    console.error(`${name}: ${p}`);
    failed = true;
  }
  let caught = 0;
  for (const m of mutations) {
    const copy = { ...files };
    const before = copy[m.file];
    if (before === undefined) throw new Error(`mutation "${m.what}" names no file ${m.file}`);
    const after = m.edit(before);
    if (after === before) {
      console.error(`${name}: mutation "${m.what}" changed nothing in ${m.file} (the file changed; update the mutation)`);
      failed = true;
      continue;
    }
    copy[m.file] = after;
    let found;
    try {
      found = check(copy);
    } catch (e) {
      found = [e.message];
    }
    if (found.some((p) => m.expect.test(p))) {
      caught++;
    } else {
      console.error(`${name}: the check missed a broken ${m.file} (${m.what}); it reported: ${found.join(' | ') || 'nothing'}`);
      failed = true;
    }
  }
  console.log(`${name}: ${problems.length} problems in the files; ${caught} of ${mutations.length} broken copies refused`);
  process.exit(failed ? 1 : 0);
}

function replaceOnce(from, to) {
  return (text) => {
    if (!text.includes(from)) return text;
    return text.replace(from, to);
  };
}

module.exports = { root, read, yamlDoc, yamlDocs, documentedMetrics, dockerStages, run, replaceOnce, YAML };
