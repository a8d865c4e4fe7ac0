// An SVG of the benchmark's three curves against N (log scale): convergence time (with the direct
// baseline), steady RSS, and idle CPU. Plain SVG text, no plotting library.
import { baselineSeconds, type SizeResult } from "./results.ts";

interface Series {
  label: string;
  color: string;
  points: Array<[number, number]>;
}

function panel(x0: number, title: string, unit: string, series: Series[], ns: number[]): string {
  const width = 300;
  const height = 220;
  const left = 50;
  const top = 30;
  const plotW = width - left - 15;
  const plotH = height - top - 45;
  const values = series.flatMap((s) => s.points.map(([, y]) => y));
  const yMax = Math.max(...values, 0) * 1.15 || 1;
  const lx = (n: number) => {
    const [a, b] = [Math.log10(Math.min(...ns)), Math.log10(Math.max(...ns))];
    return left + (b === a ? plotW / 2 : ((Math.log10(n) - a) / (b - a)) * plotW);
  };
  const ly = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<g transform="translate(${x0},0)">`, `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`];
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`, `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(`<text x="${left - 4}" y="${ly(v) + 4}" text-anchor="end" font-size="10">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`, `<line x1="${left}" y1="${ly(v)}" x2="${left + plotW}" y2="${ly(v)}" stroke="#ddd"/>`);
  }
  for (const n of ns) parts.push(`<text x="${lx(n)}" y="${top + plotH + 14}" text-anchor="middle" font-size="10">${n.toLocaleString("en-US")}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 30}" text-anchor="middle" font-size="10">resources (log scale); ${unit}</text>`);
  series.forEach((s, k) => {
    const pts = s.points.map(([n, v]) => `${lx(n).toFixed(1)},${ly(v).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [n, v] of s.points) parts.push(`<circle cx="${lx(n).toFixed(1)}" cy="${ly(v).toFixed(1)}" r="3" fill="${s.color}"><title>${s.label}: ${v.toFixed(2)} ${unit} at ${n}</title></circle>`);
    parts.push(`<rect x="${left + 8}" y="${top + 4 + k * 13}" width="10" height="3" fill="${s.color}"/><text x="${left + 22}" y="${top + 9 + k * 13}" font-size="10">${s.label}</text>`);
  });
  parts.push("</g>");
  return parts.join("\n");
}

export function plotSvg(results: readonly SizeResult[], caption: string): string {
  const sorted = [...results].sort((a, b) => a.resources - b.resources);
  const ns = sorted.map((r) => r.resources);
  const pts = (f: (r: SizeResult) => number): Array<[number, number]> => sorted.map((r) => [r.resources, f(r)]);
  const panels = [
    panel(0, "Convergence", "seconds", [
      { label: "controller", color: "#1f77b4", points: pts((r) => r.convergeSeconds) },
      { label: "direct baseline", color: "#999", points: pts((r) => baselineSeconds(r)) },
    ], ns),
    panel(300, "Resident memory", "MiB", [
      { label: "steady", color: "#2ca02c", points: pts((r) => r.rss.steadyMiB) },
      { label: "peak", color: "#d62728", points: pts((r) => r.rss.peakMiB) },
    ], ns),
    panel(600, "Idle CPU", "% of a core", [{ label: "controller", color: "#9467bd", points: pts((r) => r.idle.cpuPercentOfCore) }], ns),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="250" font-family="sans-serif" font-size="12">`,
    `<rect width="900" height="250" fill="white"/>`,
    ...panels,
    `<text x="450" y="245" text-anchor="middle" font-size="10" fill="#555">${caption.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</text>`,
    "</svg>",
  ].join("\n");
}
