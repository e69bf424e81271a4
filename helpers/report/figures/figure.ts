/**
 * What a figure of claims.html is (helpers/report/figures/index.ts re-exports
 * it and lists them in FIGURES), and the little every figure needs: the
 * observations the rules would read, the reason when there are none, and the
 * SVG root that carries data-figure.
 *
 * A figure is drawn from the report's observations only (the same usable set
 * the rules read: complete, from a test that was not skipped); when they are
 * missing it says why, in words taken from the report, and draws nothing.
 */
import { ObservationIndex, type Usable } from '../../claims/rule.js';
import { familyFiles, type ClaimFamily } from '../../claims/families.js';
import type { ObservationKind } from '../../observations.js';
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

/** The observations of a kind that the rules would read (helpers/claims/rule.ts, whySetAside). */
export function usable<K extends ObservationKind>(r: ClaimsReport, kind: K): Usable<K>[] {
  return new ObservationIndex(r.observations, r.environment).all(kind);
}

/**
 * Why a report holds no usable observation of `kind`, recorded by the case
 * file of `family`: each incomplete or set-aside one with its reason, else
 * the case file did not run, else its skipped tests with their reasons.
 */
export function missingReason(r: ClaimsReport, kind: ObservationKind, family: ClaimFamily): string {
  const aside = new ObservationIndex(r.observations, r.environment).setAside(kind);
  if (aside.length) {
    const each = aside.map((x) => `${x.observation.variant} (test "${x.observation.test}", ${x.observation.testState}): ${x.reason}`);
    return `No ${kind} observation was complete in this run: ${each.join('; ')}.`;
  }
  const file = familyFiles(family).caseFile;
  if (r.cases?.claimFilesNotRun.includes(file)) return `No ${kind} observation: ${file} did not run (a partial run).`;
  const skipped = r.tests.list.filter((t) => t.file === file && t.state !== 'passed' && t.state !== 'failed');
  const why = skipped.length ? `; skipped in ${file}: ${skipped.map((t) => `"${t.name}" (${t.skipReason ?? t.state})`).join('; ')}` : '';
  return `This report holds no ${kind} observation${why}.`;
}

/**
 * The root of a figure's SVG: scales down to the width it is given (a
 * 420 px window) and keeps its proportions; text takes the page's colour so
 * it reads in dark mode and in print.
 */
export function svgRoot(id: string, title: string, width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" data-figure="${esc(id)}" viewBox="0 0 ${width} ${Math.ceil(height)}" ` +
    `width="100%" style="max-width:${width}px;height:auto" role="img" aria-label="${esc(title)}" ` +
    `font-family="system-ui, sans-serif" font-size="10" fill="currentColor"><title>${esc(title)}</title>${body}</svg>`
  );
}

/** An SVG text element. */
export const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`;

/** Words into lines of at most `max` characters (a word longer than that stays whole). */
export function wrap(s: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of s.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** How many elements of each data-role an SVG holds: what the tests compare with `elements`. */
export function countRoles(svg: string): Record<string, number> {
  const n: Record<string, number> = {};
  for (const m of svg.matchAll(/\sdata-role="([^"]+)"/g)) n[m[1]!] = (n[m[1]!] ?? 0) + 1;
  return n;
}
