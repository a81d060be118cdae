/**
 * The scale chart, drawn as plain SVG text by the benchmark itself: time and peak memory against the
 * number of workloads N, log-scale x, medians joined by lines, min–max as whiskers, targets dashed.
 */

export interface ChartPoint {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly ChartPoint[];
}

export interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** A dashed horizontal line: the target. */
  readonly target?: { readonly value: number; readonly label: string };
}

const PANEL_W = 420;
const PANEL_H = 300;
const MARGIN = { left: 60, right: 20, top: 40, bottom: 50 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/** A round upper bound and step for a linear axis from 0. */
function niceAxis(max: number): { top: number; step: number } {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}

function drawPanel(panel: Panel, ns: readonly number[], offsetX: number): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const logMin = Math.log10(Math.min(...ns)) - 0.15;
  const logMax = Math.log10(Math.max(...ns)) + 0.15;
  const highest = Math.max(...panel.series.flatMap((s) => s.points.map((p) => p.max)), panel.target?.value ?? 0);
  const { top, step } = niceAxis(highest * 1.05);
  const x = (n: number) => offsetX + MARGIN.left + ((Math.log10(n) - logMin) / (logMax - logMin)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const out: string[] = [];
  out.push(
    `<text x="${offsetX + PANEL_W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(panel.title)}</text>`,
  );
  // Axes and grid.
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(
      `<line x1="${offsetX + MARGIN.left}" x2="${offsetX + MARGIN.left + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${offsetX + MARGIN.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end" font-size="11">${fmt(v)}</text>`,
    );
  }
  for (const n of ns) {
    out.push(`<line x1="${fmt(x(n))}" x2="${fmt(x(n))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${fmt(x(n))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${n}</text>`);
  }
  out.push(
    `<text x="${offsetX + MARGIN.left + plotW / 2}" y="${PANEL_H - 10}" text-anchor="middle" font-size="12">workloads N (log scale)</text>`,
  );
  out.push(
    `<text transform="translate(${offsetX + 16},${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(panel.yLabel)}</text>`,
  );
  out.push(
    `<rect x="${offsetX + MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#555"/>`,
  );
  if (panel.target) {
    const ty = fmt(y(panel.target.value));
    out.push(
      `<line x1="${offsetX + MARGIN.left}" x2="${offsetX + MARGIN.left + plotW}" y1="${ty}" y2="${ty}" stroke="#c00" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${offsetX + MARGIN.left + 6}" y="${fmt(y(panel.target.value) - 5)}" font-size="11" fill="#c00">${esc(panel.target.label)}</text>`,
    );
  }
  // Series: whiskers, median line, points, legend.
  panel.series.forEach((s, i) => {
    const pts = s.points.map((p) => `${fmt(x(p.n))},${fmt(y(p.median))}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points) {
      out.push(
        `<line x1="${fmt(x(p.n))}" x2="${fmt(x(p.n))}" y1="${fmt(y(p.min))}" y2="${fmt(y(p.max))}" stroke="${s.color}"/>`,
      );
      out.push(`<circle cx="${fmt(x(p.n))}" cy="${fmt(y(p.median))}" r="3.5" fill="${s.color}"/>`);
    }
    const ly = MARGIN.top + 14 + i * 16;
    out.push(
      `<line x1="${offsetX + MARGIN.left + 10}" x2="${offsetX + MARGIN.left + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${offsetX + MARGIN.left + 33}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** Panels side by side; `caption` goes under them. */
export function scaleChartSvg(panels: readonly Panel[], caption: string): string {
  const ns = [...new Set(panels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt.n))))].sort(
    (a, b) => a - b,
  );
  const width = PANEL_W * panels.length;
  const height = PANEL_H + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...panels.map((p, i) => drawPanel(p, ns, i * PANEL_W)),
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="11" fill="#444">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
