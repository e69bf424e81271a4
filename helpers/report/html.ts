/**
 * The page shell shared by claims.html and matrix.html: one self-contained
 * file (inline CSS and script, no network), readable in a narrow window and
 * printable (every <details> opens before printing).
 */

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const VERDICT_COLOURS: Record<string, string> = {
  confirmed: '#1a7f37',
  refuted: '#cf222e',
  nuanced: '#9a6700',
  inconclusive: '#57606a',
  'not-testable': '#6e40c9',
  passed: '#1a7f37',
  failed: '#cf222e',
  skipped: '#57606a',
  missing: '#57606a',
  'out-of-scope': '#8c959f',
};

export const badge = (v: string): string =>
  `<span class="badge" data-verdict="${esc(v)}" style="background:${VERDICT_COLOURS[v] ?? '#57606a'}">${esc(v)}</span>`;

const CSS = `
:root { color-scheme: light dark; --fg: #1f2328; --bg: #fff; --muted: #57606a; --line: #d0d7de; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d; --code: #161b22; } }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 1rem; max-width: 80rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
.muted { color: var(--muted); }
.badge { color: #fff; border-radius: 1em; padding: 0 .6em; font-size: .85em; white-space: nowrap; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; }
.counts li { border: 1px solid var(--line); border-radius: .5rem; padding: .25rem .75rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { position: sticky; top: 0; background: var(--bg); }
td.c { text-align: center; }
pre { background: var(--code); padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: .85em; max-height: 30rem; }
details > summary { cursor: pointer; }
.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: .75rem 0; }
.filters input, .filters select { font: inherit; padding: .2rem .4rem; }
dl.env { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dl.env dt { font-weight: 600; } dl.env dd { margin: 0; word-break: break-word; }
/* Figures (helpers/report/figures/): inline SVG coloured from these classes, so that they follow the dark scheme and print. */
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); gap: 1rem; }
figure.fig { margin: 0; border: 1px solid var(--line); border-radius: .5rem; padding: .5rem; break-inside: avoid; }
figure.fig figcaption { margin-bottom: .35rem; }
.fig-scroll { overflow-x: auto; }
svg.fig-svg { display: block; width: 100%; max-width: 42rem; height: auto; color: var(--fg); font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
svg.fig-svg text { fill: currentColor; }
svg.fig-svg .f-box { fill: var(--bg); stroke: var(--muted); }
svg.fig-svg .f-leader { stroke-width: 2; }
svg.fig-svg .f-shared { fill: var(--code); }
svg.fig-svg .f-group { fill: none; stroke: var(--line); stroke-dasharray: 3 3; }
svg.fig-svg .f-arrow { stroke: currentColor; stroke-width: 1.2; }
svg.fig-svg .f-head { fill: currentColor; }
svg.fig-svg .f-dots { stroke: var(--muted); stroke-dasharray: 1 3; }
svg.fig-svg .f-muted { fill: var(--muted); }
svg.fig-svg .f-yes { fill: #1a7f37; } svg.fig-svg .f-no { fill: var(--muted); } svg.fig-svg .f-bad { fill: #cf222e; }
@media (prefers-color-scheme: dark) { svg.fig-svg .f-yes { fill: #3fb950; } svg.fig-svg .f-bad { fill: #f85149; } }
.fig-links { margin: .25rem 0; }
@media (max-width: 40rem) { body { padding: .5rem; font-size: 14px; } th, td { padding: .25rem; } .hide-narrow { display: none; } }
@media print { .filters { display: none; } th { position: static; } pre { max-height: none; } body { max-width: none; } }
`;

const SCRIPT = `
(() => {
  const q = document.getElementById('q'), v = document.getElementById('verdict'), rows = document.querySelectorAll('tr[data-verdict]');
  function apply() {
    const text = (q && q.value || '').toLowerCase(), verdict = v && v.value || '';
    let shown = 0;
    rows.forEach((r) => { const ok = (!verdict || r.dataset.verdict === verdict) && r.textContent.toLowerCase().includes(text); r.hidden = !ok; if (ok) shown++; });
    const n = document.getElementById('shown'); if (n) n.textContent = shown + ' shown';
  }
  if (q) q.addEventListener('input', apply);
  if (v) v.addEventListener('change', apply);
  window.addEventListener('beforeprint', () => document.querySelectorAll('details').forEach((d) => { d.dataset.wasOpen = d.open; d.open = true; }));
  window.addEventListener('afterprint', () => document.querySelectorAll('details').forEach((d) => { d.open = d.dataset.wasOpen === 'true'; }));
  apply();
})();
`;

/** A whole HTML document around `body`. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The text filter and verdict selector that the script wires to rows with data-verdict. */
export function filters(verdicts: string[], label: string): string {
  return `<div class="filters" role="search">
<label>Filter ${esc(label)} <input id="q" type="search" placeholder="text in the row"></label>
<label>Verdict <select id="verdict"><option value="">all</option>${verdicts.map((v) => `<option>${esc(v)}</option>`).join('')}</select></label>
<span id="shown" class="muted" aria-live="polite"></span>
</div>`;
}

export function envList(env: Record<string, unknown>): string {
  return `<dl class="env">${Object.entries(env)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(Array.isArray(v) ? v.join(', ') || '(none)' : (v ?? '(unknown)'))}</dd>`)
    .join('')}</dl>`;
}
