/** lab bench's chart: one self-contained SVG (no network), bars per mechanism and fork's cost against memory. */
import type { BenchRow } from './experiments/bench.js';

/** Operations per second per mechanism, and fork's median against the parent's touched memory. */
export function benchSvg(rows: BenchRow[], memory: (BenchRow & { mib: number })[]): string {
  const w = 720;
  const barH = 22;
  const left = 120;
  const maxOps = Math.max(...rows.map((r) => r.opsPerSec), 1);
  const h1 = 40 + rows.length * (barH + 6);
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barH + 6);
      const len = ((w - left - 140) * r.opsPerSec) / maxOps;
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${r.mechanism}</text><rect x="${left}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="#4f81bd"><title>${r.mechanism}: median ${(r.medianNs / 1000).toFixed(1)} µs</title></rect><text x="${(left + len + 6).toFixed(1)}" y="${y + 15}">${r.opsPerSec.toLocaleString('en')} /s (${(r.medianNs / 1000).toFixed(1)} µs)</text>`;
    })
    .join('');
  const h2 = 220;
  const maxMs = Math.max(...memory.map((m) => m.medianNs / 1e6), 0.001);
  const maxMib = Math.max(...memory.map((m) => m.mib), 1);
  const px = (mib: number) => left + ((w - left - 60) * mib) / maxMib;
  const py = (ms: number) => h1 + 40 + (h2 - 70) * (1 - ms / maxMs);
  const points = memory.map((m) => `${px(m.mib).toFixed(1)},${py(m.medianNs / 1e6).toFixed(1)}`).join(' ');
  const marks = memory
    .map(
      (m) =>
        `<circle cx="${px(m.mib).toFixed(1)}" cy="${py(m.medianNs / 1e6).toFixed(1)}" r="4" fill="#c0504d"/><text x="${px(m.mib).toFixed(1)}" y="${(py(m.medianNs / 1e6) - 8).toFixed(1)}" text-anchor="middle">${m.mib} MiB: ${(m.medianNs / 1e6).toFixed(2)} ms</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h1 + h2}" font-family="sans-serif" font-size="12" role="img" aria-label="task creation cost">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" font-size="14" font-weight="bold">Create, exit and reap one task: operations per second (median time)</text>
${bars}
<text x="10" y="${h1 + 18}" font-size="14" font-weight="bold">fork() cost against the parent's touched memory (median)</text>
<line x1="${left}" y1="${h1 + h2 - 30}" x2="${w - 40}" y2="${h1 + h2 - 30}" stroke="#888"/>
<polyline points="${points}" fill="none" stroke="#c0504d" stroke-width="2"/>${marks}
</svg>
`;
}
