/**
 * The clone(2) sharing matrix as a picture: every combination of the
 * matrix's sharing flags (cloneMatrix, one observation per API) is one cell
 * of a grid, rows and columns each standing for half of the flags (a dot per
 * flag passed, like a truth table), so that 256 combinations fit a 420 px
 * window. In a cell, one band per API: the resources the parent saw the
 * child change (memory, files, fs, sighand, sysvsem) as coloured bars, a line
 * under the band when the child joined its creator's thread group, or the
 * errno colour when the kernel refused the set. Below, the flag sets of the
 * cloneRules rows (the rules of kernel/fork.c, copy_process() and
 * clone3_args_valid()), each with what every API answered.
 *
 * Everything is read from the report's observations: which flags there are
 * and their order (the probe's combination order), the APIs, the errnos.
 */
import { FLAG_RULE_ERRNO, RESOURCES, refusedCount, type CloneRuleRow, type ShareRow } from '../../claims/clone-matrix.js';
import { ObservationIndex } from '../../claims/rule.js';
import type { ClaimsReport } from '../claims-report.js';
import { esc } from '../html.js';
import { svgRoot, text, type Figure } from './figure.js';
import { usable, whyMissing } from './observed.js';
import { wrap } from './svg.js';

/** One colour per resource (Okabe-Ito: told apart with the usual colour blindness, and in grey print by position). */
const RESOURCE_COLOUR: Record<(typeof RESOURCES)[number], string> = {
  memory: '#0072B2',
  files: '#E69F00',
  fs: '#009E73',
  sighand: '#CC79A7',
  sysvsem: '#56B4E9',
};
/** Errnos in the order of how often the matrix gave them: the first is the kernel's flag rule (EINVAL) on a healthy run. */
const ERRNO_COLOURS = ['#cf222e', '#8250df', '#bc4c00', '#57606a'];
const NO_ERRNO = 'no errno recorded';
const W = 420;
const CELL = 21;
const DOT = 9;
/** Average width of a character at font-size 10 (system-ui), and how many fit in a line: for wrapping, which SVG does not do. */
const CHAR_W = 5.8;
const CHARS = Math.floor(W / CHAR_W);
const BOLD_CHARS = Math.floor(W / 6.4);

const flagsOf = (r: { flags: string }): string[] => (r.flags === 'none' ? [] : r.flags.split('|'));
const round = (x: number) => Math.round(x * 10) / 10;

/** The rows of each usable cloneMatrix observation, by API. */
const matrices = (r: ClaimsReport) => usable(r, 'cloneMatrix').map((o) => o.result);
const ruleRows = (r: ClaimsReport): CloneRuleRow[] => usable(r, 'cloneRules').flatMap((o) => o.result.rows);

function sharedText(x: ShareRow): string {
  if (!x.accepted) return x.errno ?? NO_ERRNO;
  const shared = RESOURCES.filter((res) => x.shared?.[res]);
  return `${shared.length ? `shared ${shared.join(', ')}` : 'shared nothing'}${x.sameTgid ? ', same TGID' : ''}`;
}

function render(r: ClaimsReport): { svg: string } | { missing: string } {
  const ms = matrices(r);
  if (!ms.length) return { missing: whyMissing(r, 'cloneMatrix', 'clone') };
  // The flags in the probe's order: the order in which they first appear in its combinations.
  const flags = [...new Set(ms.flatMap((m) => m.rows.flatMap(flagsOf)))];
  const rowFlags = flags.slice(0, Math.ceil(flags.length / 2));
  const colFlags = flags.slice(rowFlags.length);
  const nRows = 2 ** rowFlags.length;
  const nCols = 2 ** colFlags.length;
  const mask = (fs: string[], axis: string[]) => axis.reduce((n, f, i) => (fs.includes(f) ? n | (1 << i) : n), 0);
  const cell = Math.min(CELL, Math.floor((W - 4 * DOT - 48) / nCols));
  const left = W - nCols * cell;
  // The errnos of the refused combinations, most frequent first, each with its colour class e0, e1...
  const errnoCount = [
    ...ms
      .flatMap((m) => m.rows.filter((x) => !x.accepted).map((x) => x.errno ?? NO_ERRNO))
      .reduce((m, e) => m.set(e, (m.get(e) ?? 0) + 1), new Map<string, number>()),
  ].sort((a, b) => b[1] - a[1]);
  const errnoIndex = new Map(errnoCount.map(([e], i) => [e, Math.min(i, ERRNO_COLOURS.length - 1)]));
  /** The fill of a resource's bar or of an errno's refusal (presentation attributes: <use> copies do not match page CSS). */
  const resFill = (res: (typeof RESOURCES)[number]) => `fill="${RESOURCE_COLOUR[res]}"`;
  const errnoFill = (e: string) => `fill="${ERRNO_COLOURS[errnoIndex.get(e)!]}" fill-opacity="0.45"`;

  const out: string[] = [];
  let y = 0;
  const line = (s: string, attrs = '', width = CHARS) => {
    for (const l of wrap(s, width)) out.push(text(0, (y += 12.5), l, attrs));
  };
  const apis = ms.map((m) => m.api);
  line(`Refused: ${refusedCount(new ObservationIndex(r.observations, r.environment))}.`, 'font-weight="600"', BOLD_CHARS);
  const bandsText = apis.length > 1 ? `; each cell has one band per API, top to bottom: ${apis.join(', ')}` : ` (through ${apis[0]})`;
  line(`Rows and columns: a dot for each flag passed${bandsText}. Hover a cell for its result.`, 'class="muted"');
  // Legend: the resources, the thread-group line, the errnos; a new line when the next entry would not fit.
  y += 16;
  let lx = 0;
  const legend = (swatch: (x: number) => string, label: string) => {
    const w = 14 + label.length * CHAR_W;
    if (lx && lx + w > W) {
      lx = 0;
      y += 14;
    }
    out.push(swatch(lx), text(lx + 12, y, label));
    lx += w + 8;
  };
  for (const res of RESOURCES) legend((x) => `<rect x="${x}" y="${y - 8}" width="9" height="9" ${resFill(res)}/>`, res);
  legend((x) => `<rect x="${x}" y="${y - 1}" width="9" height="1.6"/>`, 'same TGID');
  for (const [e, n] of errnoCount) legend((x) => `<rect x="${x}" y="${y - 8}" width="9" height="9" ${errnoFill(e)}/>`, `refused: ${e} (${n})`);
  if (!errnoCount.length) legend(() => '', 'every combination accepted');
  y += 8;

  // Header: the column flags, one line each with its label at the left; the row flags' labels upright above their dots.
  const head = Math.max(colFlags.length * (DOT + 1), Math.max(...rowFlags.map((f) => f.length)) * 5.6) + 4;
  const top = y + head;
  colFlags.forEach((f, i) => {
    const cy = top - (colFlags.length - i) * (DOT + 1) + DOT / 2;
    out.push(text(left - rowFlags.length * DOT - 4, cy + 3, f, 'text-anchor="end" font-size="8.5"'));
    for (let c = 0; c < nCols; c++) {
      const on = (c >> i) & 1;
      out.push(`<circle cx="${left + c * cell + cell / 2}" cy="${cy}" r="2.6"${on ? '' : ' opacity="0.18"'}/>`);
    }
  });
  rowFlags.forEach((f, i) => {
    const cx = left - (rowFlags.length - i) * DOT + DOT / 2;
    out.push(text(cx + 3, top - 3, f, `transform="rotate(-90 ${cx + 3} ${top - 3})" font-size="8.5"`));
  });

  // The grid: one cell per combination, one band per API; each cell placed once (translate) so its bands and bars are short.
  const byFlags = ms.map((m) => new Map(m.rows.map((x) => [mask(flagsOf(x), flags), x])));
  const inner = cell - 2;
  const band = round(inner / ms.length - 0.5);
  const bar = round(inner / RESOURCES.length);
  // Each bar and refusal is drawn many times: defined once (ids prefixed cg-), then placed with <use>.
  const defs = [
    ...RESOURCES.map((res, k) => `<rect id="cg-${res}" x="${round(k * bar)}" width="${bar}" height="${band}" ${resFill(res)}/>`),
    ...errnoCount.map(([e]) => `<rect id="cg-e${errnoIndex.get(e)}" width="${inner}" height="${band}" ${errnoFill(e)}/>`),
    `<rect id="cg-tgid" y="${round(band - 1.6)}" width="${inner}" height="1.6"/>`,
  ];
  out.push(`<defs>${defs.join('')}</defs>`);
  const place = (role: string, id: string, y: number) => `<use data-role="${role}" href="#cg-${id}"${y ? ` y="${y}"` : ''}/>`;
  out.push(`<rect x="${left + 1}" y="${top + 1}" width="${nCols * cell - 2}" height="${nRows * cell - 2}" fill="currentColor" opacity="0.07"/>`);
  for (let row = 0; row < nRows; row++) {
    const cy = top + row * cell;
    rowFlags.forEach((_, i) => {
      const on = (row >> i) & 1;
      out.push(`<circle cx="${left - (rowFlags.length - i) * DOT + DOT / 2}" cy="${cy + cell / 2}" r="2.6"${on ? '' : ' opacity="0.18"'}/>`);
    });
    for (let col = 0; col < nCols; col++) {
      const key = row | (col << rowFlags.length);
      const cellRows = byFlags.map((m) => m.get(key));
      const first = cellRows.find(Boolean);
      if (!first) continue; // a combination no API's matrix holds: nothing to draw
      const said = cellRows.map((x) => (x ? sharedText(x) : 'not in its matrix'));
      const title =
        new Set(said).size === 1 ? `${first.flags}, ${apis.join(' and ')}: ${said[0]}` : `${first.flags}: ${said.map((t, i) => `${apis[i]} ${t}`).join('; ')}`;
      const bands = cellRows.map((x, i) => {
        if (!x) return '';
        const by = round(i * (inner / ms.length));
        if (!x.accepted) return place('refused', `e${errnoIndex.get(x.errno ?? NO_ERRNO)}`, by);
        const bars = RESOURCES.map((res) => (x.shared?.[res] ? place('shared', res, by) : '')).join('');
        const tgid = x.sameTgid ? place('same-tgid', 'tgid', by) : '';
        return `<g data-role="accepted">${bars}${tgid}</g>`;
      });
      out.push(`<g transform="translate(${left + col * cell + 1} ${cy + 1})"><title>${esc(title)}</title>${bands.join('')}</g>`);
    }
  }
  y = top + nRows * cell + 10;

  // The flag rules: one line per rule, one cell per API.
  const rules = ruleRows(r);
  line('Flag sets documented Linux refuses (and controls it accepts)', 'font-weight="600"', BOLD_CHARS);
  if (!rules.length) line(whyMissing(r, 'cloneRules', 'clone'), 'class="muted" data-missing="cloneRules"');
  else {
    y += 12;
    const ruleApis = [...new Set(rules.map((x) => x.api))];
    const colW = 58;
    const textW = W - ruleApis.length * colW;
    ruleApis.forEach((api, i) => out.push(text(textW + i * colW + colW / 2, y, api, 'text-anchor="middle" font-weight="600"')));
    y += 4;
    const byRule = [...new Set(rules.map((x) => x.rule))];
    for (const rule of byRule) {
      const lines = wrap(rule, Math.floor((textW - 6) / CHAR_W));
      const h = Math.max(16, lines.length * 11 + 5);
      lines.forEach((l, i) => out.push(text(0, y + 12 + i * 11, l)));
      ruleApis.forEach((api, i) => {
        const x = rules.find((q) => q.rule === rule && q.api === api);
        const cx = textW + i * colW + 2;
        if (!x) {
          out.push(text(cx + colW / 2 - 2, y + 12, '·', 'text-anchor="middle" class="muted"'));
          return;
        }
        // Refused by the kernel's flag rule, accepted, or refused by the environment (another errno): told apart by colour.
        const fill = x.result === 'ok' ? '#1a7f37' : x.result === FLAG_RULE_ERRNO ? '#cf222e' : '#57606a';
        const against = x.result !== x.expected;
        const title = `${x.api}(${x.flags}), exit signal ${x.exitSignal}: ${x.result}; documented: ${x.expected}`;
        out.push(
          `<g data-role="rule-row" data-api="${esc(x.api)}" data-result="${esc(x.result)}"${against ? ' data-against-docs="true"' : ''}><title>${esc(title)}</title>` +
            `<rect x="${cx}" y="${y + 2}" width="${colW - 4}" height="${h - 4}" rx="3" fill="${fill}"${against ? ' stroke="currentColor" stroke-width="2.5"' : ''}/>` +
            text(cx + (colW - 4) / 2, y + h / 2 + 3.5, `${against ? '≠ ' : ''}${x.result}`, 'text-anchor="middle" fill="#fff"') +
            '</g>',
        );
      });
      out.push(`<line x1="0" y1="${y + h}" x2="${W}" y2="${y + h}" stroke="currentColor" opacity="0.15"/>`);
      y += h;
    }
    const against = rules.filter((x) => x.result !== x.expected).length;
    y += 4;
    const note = against
      ? `≠ and a thick border: ${against} answer${against > 1 ? 's' : ''} differing from documented Linux.`
      : 'Every answer was the documented one.';
    line(`${note} Red: ${FLAG_RULE_ERRNO} (a flag rule); green: accepted; grey: another errno (the environment's refusal).`, 'class="muted"');
  }
  return { svg: svgRoot('clone-grid', cloneGrid.title, W, y + 6, out.join('')) };
}

export const cloneGrid: Figure = {
  id: 'clone-grid',
  title: 'What each clone(2) flag combination shared, and which the kernel refused',
  claims: ['A5', 'A10', 'B2', 'B3', 'B4', 'C5'],
  render,
  elements(r) {
    const ms = matrices(r);
    if (!ms.length) return undefined;
    const rows = ms.flatMap((m) => m.rows);
    const accepted = rows.filter((x) => x.accepted);
    return {
      accepted: accepted.length,
      refused: rows.length - accepted.length,
      shared: accepted.reduce((n, x) => n + RESOURCES.filter((res) => x.shared?.[res]).length, 0),
      'same-tgid': accepted.filter((x) => x.sameTgid).length,
      'rule-row': ruleRows(r).length,
    };
  },
};
