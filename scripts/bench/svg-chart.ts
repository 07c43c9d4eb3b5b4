// A small line-chart writer for benchmark results: side-by-side panels, one
// line per series, 0–yMax on the y axis (100 unless given). SVG, so the README shows it as is.
export interface Series {
  name: string;
  points: { x: number; y: number }[];
}
export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function lineChartSvg(chart: { title: string; yLabel: string; panels: Panel[]; yMax?: number }): string {
  const yMax = chart.yMax ?? 100;
  const panelWidth = 460;
  const height = 340;
  const margin = { left: 56, right: 16, top: 48, bottom: 70 };
  const plotWidth = panelWidth - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const width = panelWidth * chart.panels.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escape(chart.title)}</text>`,
  ];
  chart.panels.forEach((panel, p) => {
    const ox = p * panelWidth + margin.left;
    const oy = margin.top;
    const xs = panel.series.flatMap((s) => s.points.map((pt) => pt.x));
    const xMax = Math.max(1, ...xs);
    const sx = (x: number) => ox + (x / xMax) * plotWidth;
    const sy = (y: number) => oy + plotHeight - (Math.max(0, Math.min(yMax, y)) / yMax) * plotHeight;
    parts.push(`<text x="${ox + plotWidth / 2}" y="${oy - 10}" text-anchor="middle">${escape(panel.title)}</text>`);
    for (let i = 0; i <= 5; i++) {
      const y = (yMax * i) / 5;
      parts.push(`<line x1="${ox}" x2="${ox + plotWidth}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
      parts.push(`<text x="${ox - 6}" y="${sy(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`);
    }
    // Every distinct x is labelled, unless there are too many to read: then about ten of them.
    const distinct = [...new Set(xs)].sort((a, b) => a - b);
    const step = Math.ceil(distinct.length / 10);
    for (const x of distinct.filter((_, i) => i % step === 0)) {
      parts.push(`<text x="${sx(x)}" y="${oy + plotHeight + 16}" text-anchor="middle">${x}</text>`);
    }
    parts.push(`<rect x="${ox}" y="${oy}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${ox + plotWidth / 2}" y="${oy + plotHeight + 34}" text-anchor="middle">${escape(panel.xLabel)}</text>`);
    parts.push(`<text transform="translate(${ox - 40},${oy + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`);
    panel.series.forEach((series, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const points = [...series.points].sort((a, b) => a.x - b.x);
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map((pt) => `${sx(pt.x).toFixed(1)},${sy(pt.y).toFixed(1)}`).join(" ")}"/>`);
      for (const pt of points) parts.push(`<circle cx="${sx(pt.x).toFixed(1)}" cy="${sy(pt.y).toFixed(1)}" r="3" fill="${colour}"/>`);
      const lx = ox + i * 128;
      parts.push(`<rect x="${lx}" y="${oy + plotHeight + 44}" width="10" height="10" fill="${colour}"/>`);
      parts.push(`<text x="${lx + 14}" y="${oy + plotHeight + 53}">${escape(series.name)}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}
