// Building the page without markup strings: every text goes in through
// textContent, so nothing the API returns is ever parsed as HTML.

// An element `tag` with `attrs` (class, data-*, href, ...; on* handlers are
// functions) and `children` (strings become text nodes; null and false are
// skipped; arrays are flattened).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Replaces the children of `el` with `children`.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// A link to an in-page route ("#/...") built from path segments, each
// encoded, so a name can never change the route it belongs to.
export function route(...segments) {
  return '#/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

// A table: `columns` are header texts, `rows` arrays of cells (text or
// nodes); an optional `rowAttrs(i)` gives each row's attributes.
export function table(columns, rows, rowAttrs = () => ({})) {
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((cells, i) => h('tr', rowAttrs(i), cells.map((c) => h('td', {}, c))))));
}
