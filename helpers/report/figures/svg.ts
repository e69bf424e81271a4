/**
 * The few SVG pieces the figures are drawn with. Every figure is one inline
 * <svg> in claims.html: no network, no script, colours from the page's CSS
 * classes (html.ts, "figures") so that it follows the dark scheme and prints.
 *
 * Figures are laid out on a 420-unit-wide viewBox: the narrowest window the
 * report is checked in (cases/tooling/browser.test.ts) shows it at about 1:1,
 * so a 12-unit font stays readable there, and a wider page scales it up.
 */
import { esc } from '../html.js';

export const WIDTH = 420;
export const FONT = 12;
/** A line of text, top to next top. */
export const LINE = 16;

/** A generous width of a text in the figures' font (system-ui digits and letters are narrower than 0.62 em). */
export const textWidth = (s: string, size = FONT): number => s.length * size * 0.62;

type Attrs = Record<string, string | number | undefined>;
const attrs = (a: Attrs): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');

/**
 * One element's attributes: `role` becomes data-role, the name the tests
 * count elements by (cases/tooling/figures.test.ts); `cls` the CSS class.
 */
export interface Mark {
  role?: string;
  cls?: string;
  /** Any other attribute, written as given. */
  extra?: Attrs;
}
const markAttrs = (m: Mark = {}): Attrs => ({ 'data-role': m.role, class: m.cls, ...m.extra });

export function text(x: number, y: number, s: string, m: Mark & { anchor?: 'start' | 'middle' | 'end'; bold?: boolean; size?: number } = {}): string {
  const a = { x, y, 'text-anchor': m.anchor === 'start' ? undefined : m.anchor, 'font-weight': m.bold ? 600 : undefined, 'font-size': m.size, ...markAttrs(m) };
  return `<text${attrs(a)}>${esc(s)}</text>`;
}

export function rect(x: number, y: number, w: number, h: number, m: Mark & { dashed?: boolean } = {}): string {
  return `<rect${attrs({ x, y, width: w, height: h, rx: 4, 'stroke-dasharray': m.dashed ? '4 3' : undefined, ...markAttrs({ cls: 'f-box', ...m }) })}/>`;
}

/** A group: what its children draw counts as one element of `role`. */
export const group = (body: string, m: Mark = {}): string => `<g${attrs(markAttrs(m))}>${body}</g>`;

/** A straight arrow from (x1, y1) to (x2, y2), its head from the figure's marker (see svgDoc). */
export function arrow(figure: string, x1: number, y1: number, x2: number, y2: number, m: Mark & { dashed?: boolean } = {}): string {
  const a = {
    x1,
    y1,
    x2,
    y2,
    'marker-end': `url(#${figure}-head)`,
    'stroke-dasharray': m.dashed ? '5 3' : undefined,
    ...markAttrs({ cls: 'f-arrow', ...m }),
  };
  return `<line${attrs(a)}/>`;
}

/** A plain line (a dotted leader from a label to where its arrow starts, say). */
export const line = (x1: number, y1: number, x2: number, y2: number, m: Mark = {}): string =>
  `<line${attrs({ x1, y1, x2, y2, ...markAttrs({ cls: 'f-dots', ...m }) })}/>`;

/** Words into lines of at most `chars` characters (a word longer than that gets a line of its own). */
export function wrap(s: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Lines of text from (x, y) down, one LINE apart; returns the markup and the y below the last line. */
export function paragraph(x: number, y: number, s: string, chars: number, m: Mark & { size?: number } = {}): { svg: string; y: number } {
  const lines = wrap(s, chars);
  return { svg: lines.map((l, i) => text(x, y + i * LINE, l, m)).join(''), y: y + lines.length * LINE };
}

/**
 * The whole <svg>: a title and a description for screen readers (the figure's
 * sentence form), and the arrowhead marker, whose id carries the figure's id
 * because every figure is inline in the same document.
 */
export function svgDoc(figure: string, title: string, description: string, height: number, body: string): string {
  const h = Math.ceil(height);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="fig-svg" viewBox="0 0 ${WIDTH} ${h}" width="${WIDTH}" height="${h}" role="img"` +
    ` aria-labelledby="${figure}-title ${figure}-desc" font-size="${FONT}">` +
    `<title id="${figure}-title">${esc(title)}</title><desc id="${figure}-desc">${esc(description)}</desc>` +
    `<defs><marker id="${figure}-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
    `<path d="M0,0 L10,5 L0,10 z" class="f-head"/></marker></defs>${body}</svg>`
  );
}
