/**
 * What a figure of claims.html is (helpers/report/figures/index.ts re-exports
 * it and lists them in FIGURES), the SVG root that carries data-figure, and
 * the count of data-roles the tests compare with `elements`. What a figure may
 * draw from, and the reason when it is missing, is observed.ts.
 *
 * A figure is drawn from the report's observations only (the same usable set
 * the rules read: complete, from a test that was not skipped); when they are
 * missing it says why, in words taken from the report, and draws nothing.
 */
import type { ClaimsReport } from '../claims-report.js';
import { esc } from '../html.js';

export interface Figure {
  /** Used as data-figure on the SVG root and in screenshot names: 'clone-grid'. */
  id: string;
  title: string;
  /** The claim IDs it bears on (placed beside them). */
  claims: string[];
  /** The SVG (inline, no network, readable printed and at 420 px wide), or why it cannot be drawn. */
  render(r: ClaimsReport): { svg: string } | { missing: string };
  /**
   * How many elements of each data-role the SVG must hold, counted straight
   * from the observations (not from the render code); undefined when missing.
   */
  elements(r: ClaimsReport): Record<string, number> | undefined;
}

/**
 * The root of a figure's SVG: scales down to the width it is given (a
 * 420 px window) and keeps its proportions; text takes the page's colour so
 * it reads in dark mode and in print.
 */
export function svgRoot(id: string, title: string, width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" data-svg="${esc(id)}" viewBox="0 0 ${width} ${Math.ceil(height)}" ` +
    `width="100%" style="max-width:${width}px;height:auto" role="img" aria-label="${esc(title)}" ` +
    `font-family="system-ui, sans-serif" font-size="10" fill="currentColor"><title>${esc(title)}</title>${body}</svg>`
  );
}

/** An SVG text element. */
export const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`;

/** How many elements of each data-role an SVG holds: what the tests compare with `elements`. */
export function countRoles(svg: string): Record<string, number> {
  const n: Record<string, number> = {};
  for (const m of svg.matchAll(/\sdata-role="([^"]+)"/g)) n[m[1]!] = (n[m[1]!] ?? 0) + 1;
  return n;
}
