// The cohort chart of a deployment: error rate and p99 latency of the
// baseline (previous version) and the canary (new version) per time
// bucket, on two plots that share their time axis and cursor, with the
// gate's decisions marked: a tick per decision coloured by its verdict, a
// line where the verdict or the stage changed, and the deployment's start
// and end (a rollback, a success). Drawn by uPlot (vendor/uplot/).
import { h } from './dom.js';

export const COLORS = {
  baseline: '#3867d6',
  canary: '#e8710a',
  healthy: '#1e8e3e',
  insufficient: '#80868b',
  regression: '#d93025',
  start: '#5f6368',
};

const END_COLORS = {
  succeeded: COLORS.healthy,
  'rolled-back': COLORS.regression,
  failed: COLORS.regression,
  cancelled: COLORS.start,
  superseded: COLORS.start,
};

// CSS pixels above the plot area: labels in two rows, then the ticks.
const TOP_BAND = 36;

// Tick spacings of the time axis, in seconds: whole ones only.
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

// Runs of decisions with one stage and verdict: where each begins.
function changes(decisions) {
  const out = [];
  let last = null;
  for (const d of decisions) {
    if (!last || last.stage !== d.stage || last.verdict !== d.verdict) {
      out.push({ ...d, stageChanged: !!last && last.stage !== d.stage });
    }
    last = d;
  }
  return out;
}

function nonNull(values) {
  return values.reduce((n, v) => n + (v === null || v === undefined ? 0 : 1), 0);
}

export class CohortChart {
  // `root`: the element the chart fills.
  constructor(root) {
    this.root = root;
    this.marks = { decisions: [], changes: [], start: null, end: null };
    this.errorsEl = h('div', { class: 'plot', id: 'chart-errors' });
    this.latencyEl = h('div', { class: 'plot', id: 'chart-latency' });
    this.caption = h('p', { class: 'chart-caption', id: 'chart-caption' });
    root.replaceChildren(
      h('h3', {}, 'Error rate'), this.errorsEl,
      h('h3', {}, 'p99 latency'), this.latencyEl,
      h('p', { class: 'chart-key' },
        h('span', { class: 'key-line', dataset: { color: 'baseline' } }), 'baseline ',
        h('span', { class: 'key-line', dataset: { color: 'canary' } }), 'canary · gate decisions: ',
        h('span', { class: 'key-tick', dataset: { color: 'healthy' } }), 'healthy ',
        h('span', { class: 'key-tick', dataset: { color: 'insufficient' } }), 'insufficient ',
        h('span', { class: 'key-tick', dataset: { color: 'regression' } }), 'regression'),
      this.caption);
    this.plots = null;
    this.labels = '';
    this.step = 1;
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(root);
  }

  destroy() {
    this.resize.disconnect();
    for (const p of this.plots ?? []) p.destroy();
    this.plots = null;
  }

  fit() {
    const width = Math.max(320, this.root.clientWidth);
    for (const p of this.plots ?? []) {
      if (p.width !== width) p.setSize({ width, height: p.height });
    }
  }

  // Shows `series` (GET .../health/series) of `deployment`.
  update(series, deployment) {
    const xs = series.ends_ms.map((t) => t / 1000);
    const canary = series.cohorts.canary;
    const baseline = series.cohorts.baseline;
    const nothing = xs.map(() => null);
    const rate = (c) => (c ? c.error_rate.map((v) => (v === null ? null : v * 100)) : nothing);
    const p99 = (c) => (c ? c.p99_us.map((v) => (v === null ? null : v / 1000)) : nothing);

    // created_at and updated_at are whole seconds; the decision that ended
    // a rollout is stamped in milliseconds within the second it ended.
    const ended = Date.parse(deployment.updated_at);
    const last = series.decisions[series.decisions.length - 1];
    const endMs = last && last.at_ms >= ended && last.at_ms < ended + 1000 ? last.at_ms : ended;
    this.marks = {
      decisions: series.decisions,
      changes: changes(series.decisions),
      start: Date.parse(deployment.created_at) / 1000,
      end: END_COLORS[deployment.state] ? { t: endMs / 1000, state: deployment.state } : null,
    };

    this.step = series.step_ms / 1000;
    const labels = `${series.previous_version}/${series.version}`;
    if (!this.plots || labels !== this.labels) {
      for (const p of this.plots ?? []) p.destroy();
      this.labels = labels;
      const base = baseline ? `baseline v${baseline.version}` : 'baseline (none)';
      const can = `canary v${canary.version}`;
      this.plots = [
        this.plot(this.errorsEl, base, can, (v) => `${v.toFixed(v < 1 ? 2 : 1)}%`,
          [xs, rate(baseline), rate(canary)]),
        this.plot(this.latencyEl, base, can, (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms`,
          [xs, p99(baseline), p99(canary)]),
      ];
    } else {
      this.plots[0].setData([xs, rate(baseline), rate(canary)]);
      this.plots[1].setData([xs, p99(baseline), p99(canary)]);
    }

    const points = { baseline: baseline ? nonNull(baseline.error_rate) : 0,
      canary: nonNull(canary.error_rate) };
    Object.assign(this.root.dataset, {
      baselinePoints: String(points.baseline),
      canaryPoints: String(points.canary),
      decisions: String(series.decisions.length),
      step: series.step,
    });
    const sum = (c) => (c ? c.requests.reduce((a, b) => a + b, 0) : 0);
    this.caption.textContent =
      `${series.step} buckets from ${new Date(series.from).toLocaleTimeString()} ` +
      `to ${new Date(series.to).toLocaleTimeString()}: baseline ` +
      `${sum(baseline).toLocaleString()} requests, canary ${sum(canary).toLocaleString()}; ` +
      `${series.decisions.length} gate decisions.`;
  }

  plot(el, baseLabel, canaryLabel, fmt, data) {
    const line = (label, stroke) => ({
      label, stroke, width: 2, spanGaps: false,
      value: (u, v) => (v === null || v === undefined ? '—' : fmt(v)),
      // Dots where a line alone would hide them: few buckets with data,
      // or a lone bucket between gaps.
      points: { size: 5, fill: stroke, show: (u, i) => u.data[i].filter((v) => v !== null).length < 60 },
    });
    const opts = {
      width: Math.max(320, this.root.clientWidth),
      height: 220,
      // Room above the plot for the decision ticks and the markers' labels,
      // so that neither covers a data point.
      padding: [TOP_BAND, 28, 0, 0],
      cursor: { sync: { key: 'cohorts' } },
      scales: {
        x: { time: true, range: (u, min, max) => this.xRange(min, max) },
        y: { range: (u, min, max) => [0, Math.max(1e-3, max * 1.15)] },
      },
      axes: [
        { stroke: '#5f6368', grid: { stroke: '#eceff1' }, space: 70, incrs: TIME_STEPS,
          values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString()) },
        { stroke: '#5f6368', grid: { stroke: '#eceff1' }, size: 64,
          values: (u, ticks) => ticks.map(fmt) },
      ],
      series: [{}, line(baseLabel, COLORS.baseline), line(canaryLabel, COLORS.canary)],
      hooks: { draw: [(u) => this.drawMarks(u)] },
    };
    return new uPlot(opts, data, el);
  }

  // The time shown: the deployment's life and a little before it (a fifth
  // of its length, three buckets at least), not the whole minute the API
  // gives, so that a short canary is not a sliver at the right edge.
  xRange(min, max) {
    const start = this.marks.start;
    if (!start || !(max > min)) return [min, max];
    const end = this.marks.end ? Math.min(max, this.marks.end.t + 0.2 * (this.marks.end.t - start) + 3 * this.step)
      : max;
    const lead = Math.max(3 * this.step, 0.2 * (end - start));
    return [Math.max(min, start - lead), Math.max(end, start + this.step)];
  }

  drawMarks(u) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const px = uPlot.pxRatio;
    const xOf = (t) => u.valToPos(t, 'x', true);
    const inside = (x) => x >= left - 1 && x <= left + width + 1;
    const taken = [];  // [from, to] of the labels drawn, per row
    const vline = (t, color, label, dashed, row = 0) => {
      const x = xOf(t);
      if (!inside(x)) return;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5 * px;
      if (dashed) ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, top - 8 * px);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      if (label) {
        ctx.setLineDash([]);
        ctx.fillStyle = color;
        ctx.font = `${11 * px}px system-ui, sans-serif`;
        const w = ctx.measureText(label).width;
        const right = x + 4 * px + w < left + width;
        const from = right ? x + 4 * px : x - 4 * px - w;
        // A label that would overlap one drawn goes down a row.
        while (row < 1 && taken.some(([r, a, b]) => r === row && from < b + 6 * px && from + w > a - 6 * px)) {
          row += 1;
        }
        taken.push([row, from, from + w]);
        ctx.textAlign = 'left';
        ctx.textBaseline = 'alphabetic';
        ctx.fillText(label, from, top - (12 + 13 * row) * px);
      }
      ctx.restore();
    };
    ctx.save();
    for (const d of this.marks.decisions) {
      const x = xOf(d.at_ms / 1000);
      if (!inside(x)) continue;
      ctx.fillStyle = COLORS[d.verdict] ?? COLORS.insufficient;
      ctx.fillRect(x - 1 * px, top - 8 * px, 2 * px, 6 * px);
    }
    ctx.restore();
    if (this.marks.start) vline(this.marks.start, COLORS.start, 'start', true);
    if (this.marks.end) {
      vline(this.marks.end.t, END_COLORS[this.marks.end.state], this.marks.end.state, false);
    }
    // Where the verdict changed; labelled where a stage began.
    for (const c of this.marks.changes) {
      vline(c.at_ms / 1000, COLORS[c.verdict] ?? COLORS.insufficient,
        c.stageChanged ? `stage ${c.stage}` : '', true);
    }
  }
}
