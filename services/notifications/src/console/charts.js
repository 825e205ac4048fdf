// Live charts of the platform's key figures: GET /console/charts (admins) answers with series read
// from Prometheus by fixed queries; they are drawn here as plain SVG and refreshed every few seconds.
const SVG = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 120;
const PAD = { left: 44, right: 8, top: 8, bottom: 18 };
const REFRESH_MS = 5000;
const MINUTES = 15;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export function format(unit, v) {
  if (v === null || v === undefined) return '–';
  if (v === 0) return unit === 'percentunit' ? '0%' : '0';
  if (unit === 'ops') return `${v < 10 ? v.toFixed(2) : v.toFixed(0)}/s`;
  if (unit === 's') return v < 1 ? `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms` : `${v.toFixed(2)} s`;
  if (unit === 'percentunit') return `${(v * 100).toFixed(0)}%`;
  return v < 10 && !Number.isInteger(v) ? v.toFixed(1) : v.toFixed(0);
}

const latest = (points) => {
  for (let i = points.length - 1; i >= 0; i--) if (points[i][1] !== null) return points[i];
  return undefined;
};

function drawChart(chart, range) {
  const figure = el('figure', 'chart');
  figure.dataset.chart = chart.id;
  const values = chart.series.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null));
  figure.dataset.state = values.length > 0 ? 'data' : 'empty';
  const caption = el('figcaption');
  caption.append(el('span', 'chart-title', chart.title));
  figure.append(caption);
  if (values.length === 0) {
    figure.append(el('p', 'chart-empty', 'no data yet'));
    return figure;
  }
  const max = chart.unit === 'percentunit' ? 1 : Math.max(...values) * 1.1 || 1;
  const x = (t) =>
    PAD.left + ((t - range.start) / Math.max(1, range.end - range.start)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': chart.title });
  for (const v of [0, max / 2, max]) {
    plot.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    const label = svg('text', { class: 'axis', x: PAD.left - 4, y: y(v) + 3, 'text-anchor': 'end' });
    label.textContent = format(chart.unit, v);
    plot.append(label);
  }
  const since = svg('text', { class: 'axis', x: PAD.left, y: H - 4 });
  since.textContent = `−${Math.max(1, Math.round((range.end - range.start) / 60))} min`;
  const now = svg('text', { class: 'axis', x: W - PAD.right, y: H - 4, 'text-anchor': 'end' });
  now.textContent = 'now';
  plot.append(since, now);
  const legend = el('ul', 'legend');
  chart.series.forEach((s, i) => {
    const cls = `s${i % 6}`;
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null || t < range.start) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    }
    if (d) plot.append(svg('path', { class: `line ${cls}`, d: d.trim() }));
    const last = latest(s.points);
    if (last) plot.append(svg('circle', { class: `dot ${cls}`, cx: x(last[0]), cy: y(last[1]), r: 2.5 }));
    const item = el('li', cls);
    item.append(
      el('span', 'swatch'),
      el('span', '', `${s.name} `),
      el('b', '', format(chart.unit, last?.[1])),
    );
    legend.append(item);
  });
  figure.append(plot, legend);
  return figure;
}

function setNote(section, state, text) {
  section.dataset.state = state;
  const note = section.querySelector('.charts-note');
  note.textContent = text;
  note.hidden = !text;
}

/** Fills `section` with the charts and keeps them current; returns a function that stops. */
export function startCharts(section, api) {
  section.replaceChildren();
  const head = el('div', 'card-head');
  const title = el('h2', '', 'Live figures ');
  title.append(el('span', 'muted small', `from Prometheus, up to the last ${MINUTES} min`));
  head.append(title);
  const grid = el('div', 'chart-grid');
  section.append(head, el('p', 'charts-note empty', 'Loading…'), grid);
  section.hidden = false;
  section.dataset.state = 'loading';
  let timer;
  let stopped = false;
  const refresh = async () => {
    try {
      const answer = await api('GET', `/console/charts?minutes=${MINUTES}`);
      if (answer.prometheus === 'not_configured') {
        setNote(
          section,
          'unconfigured',
          'No Prometheus configured: set PROMETHEUS_URL on notifications to see the live figures.',
        );
        grid.replaceChildren();
      } else {
        const times = answer.charts.flatMap((c) =>
          c.series.flatMap((s) => s.points.filter((p) => p[1] !== null).map((p) => p[0])),
        );
        setNote(
          section,
          'ok',
          times.length ? '' : 'No figures yet: Prometheus has not scraped any traffic so far.',
        );
        // A platform started a minute ago is drawn over the time it has figures for (2 min at least).
        const { start, end } = answer.range;
        const range = { start: Math.max(start, Math.min(end - 120, ...times)), end };
        grid.replaceChildren(...answer.charts.map((c) => drawChart(c, range)));
      }
    } catch (error) {
      setNote(section, 'error', `Charts unavailable: ${error.message}`);
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  };
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
