// How values read on the page: times, counts, rates, latencies, typed
// entries and deployment states.
import { h } from './dom.js';

// "2026-11-22T10:00:00Z" as local date and time, or "—".
export function when(rfc3339) {
  if (!rfc3339) return '—';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return String(rfc3339);
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

// "3m ago" for a time in the past.
export function ago(rfc3339) {
  if (!rfc3339) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(rfc3339).getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function count(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString();
}

export function percent(rate) {
  if (rate === null || rate === undefined) return '—';
  const p = rate * 100;
  return `${p < 1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

export function micros(us) {
  if (us === null || us === undefined) return '—';
  return us >= 1000 ? `${(us / 1000).toFixed(us >= 100000 ? 0 : 1)} ms` : `${Math.round(us)} µs`;
}

// A typed entry as the API renders it: the value, and its type; a secret
// shows only its mask, as the API sent it.
export function typed(entry) {
  if (!entry) return h('span', { class: 'muted' }, '—');
  if (entry.secret) {
    return h('span', { class: 'value secret', title: 'secret: masked by control' },
      entry.masked ?? '***', h('span', { class: 'tag' }, 'secret'));
  }
  let text;
  if (entry.type === 'duration' && entry.text) text = entry.text;
  else if (entry.type === 'json') text = JSON.stringify(entry.value);
  else if (entry.type === 'string') text = JSON.stringify(entry.value);
  else text = String(entry.value);
  return h('span', { class: 'value' }, h('code', {}, text), h('span', { class: 'type' }, entry.type));
}

// A deployment state as a coloured badge.
export function stateBadge(state) {
  return h('span', { class: `badge state-${state}`, dataset: { state } }, state);
}

export function verdictBadge(verdict) {
  if (!verdict) return h('span', { class: 'muted' }, '—');
  return h('span', { class: `badge verdict-${verdict}` }, verdict);
}
