// Tenants, and one tenant's namespaces.
import { get } from '../api.js';
import { h, route, table } from '../dom.js';
import { ago, count, when } from '../format.js';

export async function tenantsView(view) {
  const { tenants } = await get('/tenants');
  view.title('Tenants');
  view.show(
    h('h1', {}, 'Tenants'),
    tenants.length === 0
      ? h('p', { class: 'empty' }, 'No tenants yet.')
      : table(['Tenant', 'Namespaces', 'Created'],
        tenants.map((t) => [
          h('a', { href: route('tenants', t.name) }, t.name),
          count(t.namespaces),
          h('span', { title: when(t.created_at) }, ago(t.created_at)),
        ]), (i) => ({ dataset: { tenant: tenants[i].name } })),
  );
}

export async function namespacesView(view, tenant) {
  const { namespaces } = await get(`/tenants/${encodeURIComponent(tenant)}/namespaces`);
  view.title(tenant);
  view.show(
    h('nav', { class: 'crumbs' }, h('a', { href: route('tenants') }, 'Tenants'), ' / ', tenant),
    h('h1', {}, `Namespaces of ${tenant}`),
    namespaces.length === 0
      ? h('p', { class: 'empty' }, 'No namespaces yet.')
      : table(['Namespace', 'Latest version', 'Draft entries', 'Description', 'Created'],
        namespaces.map((n) => [
          h('a', { href: route('ns', n.tenant, n.name) }, n.name),
          n.latest_version ? `v${n.latest_version}` : 'none',
          count(n.draft_entries),
          n.description || h('span', { class: 'muted' }, '—'),
          h('span', { title: when(n.created_at) }, ago(n.created_at)),
        ]), (i) => ({ dataset: { namespace: namespaces[i].id } })),
  );
}
