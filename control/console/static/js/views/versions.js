// A namespace: its versions, its recent deployments, and a side-by-side
// diff of two versions (keys added, removed and changed highlighted; a
// secret shows only the mask the API sends).
import { get, nsPath } from '../api.js';
import { h, route, table } from '../dom.js';
import { ago, stateBadge, typed, when } from '../format.js';

export async function namespaceView(view, tenant, name) {
  const id = `${tenant}/${name}`;
  const [ns, { versions }, { deployments }] = await Promise.all([
    get(nsPath(id)),
    get(`${nsPath(id)}/versions?limit=50`),
    get(`/deployments?namespace=${encodeURIComponent(id)}`),
  ]);
  view.title(id);

  const from = h('select', { id: 'diff-from', 'aria-label': 'from version' },
    h('option', { value: '0' }, 'empty (v0)'),
    versions.map((v) => h('option', { value: v.number }, `v${v.number}`)));
  const to = h('select', { id: 'diff-to', 'aria-label': 'to version' },
    versions.map((v) => h('option', { value: v.number }, `v${v.number}`)));
  if (versions.length > 0) {
    to.value = String(versions[0].number);
    from.value = String(versions.length > 1 ? versions[1].number : 0);
  }
  const compare = h('form', {
    class: 'compare',
    onsubmit: (e) => {
      e.preventDefault();
      location.hash = route('ns', tenant, name, 'diff', from.value, to.value);
    },
  }, 'Compare ', from, ' with ', to, ' ', h('button', { type: 'submit' }, 'Show diff'));

  view.show(
    h('nav', { class: 'crumbs' }, h('a', { href: route('tenants') }, 'Tenants'), ' / ',
      h('a', { href: route('tenants', tenant) }, tenant), ' / ', name),
    h('h1', {}, id, ns.protected ? h('span', { class: 'tag' }, 'protected') : null),
    ns.description ? h('p', {}, ns.description) : null,
    h('h2', {}, 'Versions'),
    versions.length === 0 ? h('p', { class: 'empty' }, 'Nothing published yet.') : [
      compare,
      table(['Version', 'Message', 'Author', 'Entries', 'Hash', 'Published', ''],
        versions.map((v) => [
          `v${v.number}`,
          v.message || h('span', { class: 'muted' }, '—'),
          v.author,
          String(v.entry_count),
          h('code', { title: v.content_hash }, v.content_hash.slice(0, 12)),
          h('span', { title: when(v.created_at) }, ago(v.created_at)),
          h('a', { href: route('ns', tenant, name, 'diff', v.parent ?? 0, v.number) },
            v.parent ? `diff with v${v.parent}` : 'contents'),
        ]), (i) => ({ dataset: { version: versions[i].number } })),
    ],
    h('h2', {}, 'Deployments'),
    deployments.length === 0 ? h('p', { class: 'empty' }, 'None yet.')
      : deploymentRows(deployments.slice(0, 20)),
  );
}

export function deploymentRows(deployments) {
  return table(['#', 'Namespace', 'Version', 'Strategy', 'State', 'Stage', 'Author', 'Created'],
    deployments.map((d) => [
      h('a', { href: route('deployments', d.id) }, `#${d.id}`),
      d.namespace,
      `v${d.version}`,
      d.strategy,
      stateBadge(d.state),
      d.rollout ? `${d.rollout.stage} of ${d.rollout.stages}` : '—',
      d.author,
      h('span', { title: when(d.created_at) }, ago(d.created_at)),
    ]), (i) => ({ dataset: { deployment: deployments[i].id } }));
}

export async function diffView(view, tenant, name, a, b) {
  const id = `${tenant}/${name}`;
  const fromN = Number(a);
  const toN = Number(b);
  const [diff, target] = await Promise.all([
    get(`${nsPath(id)}/diff?from=${fromN}&to=${toN}`),
    get(`${nsPath(id)}/versions/${toN}`),
  ]);
  view.title(`${id} v${fromN}→v${toN}`);

  const rows = [];
  for (const [key, entry] of Object.entries(target.entries)) {
    if (key in diff.added) rows.push({ key, kind: 'added', left: null, right: entry });
    else if (key in diff.changed) {
      rows.push({ key, kind: 'changed', left: diff.changed[key].old, right: diff.changed[key].new });
    } else rows.push({ key, kind: 'same', left: entry, right: entry });
  }
  for (const [key, entry] of Object.entries(diff.removed)) {
    rows.push({ key, kind: 'removed', left: entry, right: null });
  }
  rows.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const counts = { added: 0, removed: 0, changed: 0, same: 0 };
  for (const r of rows) counts[r.kind] += 1;

  const onlyChanges = h('input', { type: 'checkbox', id: 'only-changes' });
  const grid = h('table', { class: 'grid diff', id: 'diff' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, fromN ? `v${fromN}` : 'empty'),
      h('th', {}, `v${toN}`))),
    h('tbody', {}, rows.map((r) => h('tr', { class: `diff-${r.kind}`, dataset: { key: r.key, kind: r.kind } },
      h('td', { class: 'key' }, h('span', { class: 'mark', 'aria-hidden': 'true' },
        { added: '+', removed: '−', changed: '~', same: '' }[r.kind]), r.key),
      h('td', { class: 'left' }, r.left ? typed(r.left) : null),
      h('td', { class: 'right' }, r.right ? typed(r.right) : null)))));
  onlyChanges.addEventListener('change', () => grid.classList.toggle('only-changes', onlyChanges.checked));

  view.show(
    h('nav', { class: 'crumbs' }, h('a', { href: route('tenants') }, 'Tenants'), ' / ',
      h('a', { href: route('tenants', tenant) }, tenant), ' / ',
      h('a', { href: route('ns', tenant, name) }, name), ' / ', 'diff'),
    h('h1', {}, `${id}: v${fromN} → v${toN}`),
    h('p', { class: 'summary' },
      h('span', { class: 'pill diff-added' }, `${counts.added} added`),
      h('span', { class: 'pill diff-removed' }, `${counts.removed} removed`),
      h('span', { class: 'pill diff-changed' }, `${counts.changed} changed`),
      h('span', { class: 'pill' }, `${counts.same} unchanged`),
      h('label', { class: 'toggle' }, onlyChanges, ' only changes')),
    rows.length === 0 ? h('p', { class: 'empty' }, 'Both versions are empty.') : grid,
  );
}
