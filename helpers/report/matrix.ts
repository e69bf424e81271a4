/**
 * Merges claims reports from several kernels or environments into one
 * matrix: claims by column (verdicts), tests by column (outcomes), the rows
 * where columns disagree first, and each column's environment.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ClaimsReport } from './claims-report.js';
import { SCHEMA_VERSION } from './claims-report.js';
import { writeFileAtomic } from '../harness/fs.js';
import { checkedJson } from './schema.js';
import { badge, envList, esc, filters, page, VERDICT_COLOURS } from './html.js';

export interface MatrixColumn {
  label: string;
  source: string;
  environment: ClaimsReport['environment'];
  summary: ClaimsReport['summary'];
  tests: { passed: number; failed: number; skipped: number; total: number };
  /** A column that has no report (a guest that hung or panicked): why. */
  broken?: string;
}

export interface Matrix {
  schemaVersion: typeof SCHEMA_VERSION;
  generatedAt: string;
  columns: MatrixColumn[];
  claims: {
    id: string;
    statement: string;
    cells: Record<string, string>;
    /** Each column's explanation of its verdict, by column label (absent for a column with no report or without the claim). */
    explanations: Record<string, string>;
    differs: boolean;
  }[];
  tests: { name: string; file: string; cells: Record<string, string>; differs: boolean }[];
}

/** One input: a report and where it came from, or a column that produced none. */
export type MatrixInput = { source: string; report: ClaimsReport; label?: string } | { source: string; label: string; broken: string };

export function buildMatrix(inputs: MatrixInput[]): Matrix {
  const used = new Set<string>();
  const columns: MatrixColumn[] = inputs.map((i) => {
    const base = i.label ?? ('report' in i ? `${i.report.environment.name} ${i.report.environment.kernelRelease}` : i.source);
    let label = base;
    for (let n = 2; used.has(label); n++) label = `${base} #${n}`;
    used.add(label);
    if (!('report' in i)) {
      return {
        label,
        source: i.source,
        broken: i.broken,
        environment: {} as ClaimsReport['environment'],
        summary: {} as ClaimsReport['summary'],
        tests: { passed: 0, failed: 0, skipped: 0, total: 0 },
      };
    }
    const t = i.report.tests;
    return {
      label,
      source: i.source,
      environment: i.report.environment,
      summary: i.report.summary,
      tests: { passed: t.passed, failed: t.failed, skipped: t.skipped, total: t.total },
    };
  });
  const reports = inputs.map((i) => ('report' in i ? i.report : undefined));
  const claimIds = [...new Set(reports.flatMap((r) => r?.claims.map((c) => c.id) ?? []))];
  const differs = (cells: Record<string, string>) => new Set(Object.values(cells)).size > 1;
  const claims = claimIds.map((id) => {
    const cells = Object.fromEntries(
      columns.map((c, k) => [c.label, reports[k]?.claims.find((x) => x.id === id)?.verdict ?? (c.broken ? 'broken' : 'missing')]),
    );
    const statement = reports.map((r) => r?.claims.find((x) => x.id === id)?.statement).find(Boolean) ?? '';
    const explanations = Object.fromEntries(
      columns.flatMap((c, k) => {
        const claim = reports[k]?.claims.find((x) => x.id === id);
        return claim ? [[c.label, claim.explanation]] : [];
      }),
    );
    return { id, statement, cells, explanations, differs: differs(cells) };
  });
  const testKeys = [...new Set(reports.flatMap((r) => r?.tests.list.map((t) => `${t.file}\u0000${t.name}`) ?? []))];
  const tests = testKeys.map((key) => {
    const [file, name] = key.split('\u0000') as [string, string];
    const cells = Object.fromEntries(
      columns.map((c, k) => [c.label, reports[k]?.tests.list.find((t) => t.file === file && t.name === name)?.state ?? (c.broken ? 'broken' : 'missing')]),
    );
    return { name, file, cells, differs: differs(cells) };
  });
  // Disagreements first, then in registry / file order.
  const firstDiffering = <T extends { differs: boolean }>(xs: T[]) => [...xs.filter((x) => x.differs), ...xs.filter((x) => !x.differs)];
  return { schemaVersion: SCHEMA_VERSION, generatedAt: new Date().toISOString(), columns, claims: firstDiffering(claims), tests: firstDiffering(tests) };
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMatrixMarkdown(m: Matrix): string {
  const head = `| | ${m.columns.map((c) => mdCell(c.label)).join(' | ')} |\n|---|${m.columns.map(() => '---').join('|')}|`;
  const row = (label: string, cells: Record<string, string>, differs: boolean) =>
    `| ${differs ? '**≠** ' : ''}${mdCell(label)} | ${m.columns.map((c) => (differs ? `**${cells[c.label]}**` : cells[c.label])).join(' | ')} |`;
  const diffClaims = m.claims.filter((c) => c.differs).length;
  const diffTests = m.tests.filter((t) => t.differs).length;
  return [
    '# clonelab matrix',
    '',
    `${m.columns.length} columns; ${diffClaims} claims and ${diffTests} tests differ between them (listed first, marked ≠).`,
    '',
    '## Claims',
    '',
    head,
    ...m.claims.map((c) => row(`${c.id}: ${c.statement}`, c.cells, c.differs)),
    '',
    '## Tests',
    '',
    head,
    ...m.tests.map((t) => row(`${t.name} (${t.file})`, t.cells, t.differs)),
    '',
    '## Columns',
    '',
    ...m.columns.map((c) =>
      c.broken
        ? `- **${c.label}** (${c.source}): no report: ${c.broken}`
        : `- **${c.label}** (${c.source}): kernel ${c.environment.kernelRelease}, ${c.environment.arch}, ${c.environment.libc}, euid ${c.environment.euid}, ${c.environment.initialPidNamespace === false ? 'a child PID namespace' : 'the initial PID namespace'}; tests ${c.tests.passed} passed, ${c.tests.failed} failed, ${c.tests.skipped} skipped`,
    ),
    '',
  ].join('\n');
}

/** A glyph per verdict, so the grid reads without colour (printed in grey, or colour-blind). */
const VERDICT_GLYPH: Record<string, string> = {
  confirmed: '✔',
  refuted: '✘',
  nuanced: '~',
  inconclusive: '?',
  'not-testable': '–',
  broken: '!',
  missing: '·',
};

/**
 * The claims.html of a column's report, relative to `outDir` (where matrix.html
 * is written), when that report's directory holds one; else undefined.
 */
export function claimsHtmlOf(c: MatrixColumn, outDir: string): string | undefined {
  if (c.broken) return undefined;
  const source = resolve(c.source);
  let dir: string;
  try {
    dir = statSync(source).isDirectory() ? source : dirname(source);
  } catch {
    return undefined; // the source is gone since it was read: no page to link to
  }
  const html = join(dir, 'claims.html');
  if (!existsSync(html)) return undefined;
  return relative(resolve(outDir), html).split(sep).map(encodeURIComponent).join('/');
}

/**
 * The claims-by-column grid: one cell per claim and column, coloured by its
 * verdict (the colours of the badges), each a link to that claim in the
 * column's claims.html when the report's page lies beside its claims.json
 * (and matrix.html knows where it is written), else carrying the column's
 * explanation as its title. Columns are numbered, their labels listed below,
 * so the grid keeps to a 420 px window with five or more columns.
 */
export function matrixGrid(m: Matrix, outDir?: string): string {
  const W = 420;
  const LEFT = 40;
  const TOP = 16;
  const cellW = Math.max(14, Math.min(64, Math.floor((W - LEFT) / Math.max(1, m.columns.length))));
  const cellH = 17;
  const width = Math.max(W, LEFT + cellW * m.columns.length);
  const links = m.columns.map((c) => (outDir ? claimsHtmlOf(c, outDir) : undefined));
  const out: string[] = [];
  m.columns.forEach((c, k) => {
    const x = LEFT + k * cellW + cellW / 2;
    out.push(`<text x="${x}" y="${TOP - 4}" text-anchor="middle" font-weight="600"><title>${esc(c.label)}</title>${k + 1}</text>`);
  });
  m.claims.forEach((claim, i) => {
    const y = TOP + i * cellH;
    out.push(`<text x="0" y="${y + cellH - 5}"${claim.differs ? ' font-weight="700"' : ''}>${claim.differs ? '≠ ' : ''}${esc(claim.id)}</text>`);
    m.columns.forEach((c, k) => {
      const verdict = claim.cells[c.label] ?? 'missing';
      const colour = VERDICT_COLOURS[verdict] ?? '#57606a';
      const href = links[k] ? `${links[k]}#claim-${encodeURIComponent(claim.id)}` : undefined;
      const why = claim.explanations[c.label];
      const title = href || !why ? `${claim.id} in ${c.label}: ${verdict}` : `${claim.id} in ${c.label}: ${verdict}. ${why}`;
      const attrs = `data-role="verdict-cell" data-claim="${esc(claim.id)}" data-column="${esc(c.label)}" data-verdict="${esc(verdict)}"`;
      const inner =
        `<title>${esc(title)}</title><rect x="${LEFT + k * cellW + 1}" y="${y + 1}" width="${cellW - 2}" height="${cellH - 2}" rx="2" fill="${colour}"/>` +
        `<text x="${LEFT + k * cellW + cellW / 2}" y="${y + cellH - 5}" text-anchor="middle" font-size="11" font-weight="700" fill="#fff">${VERDICT_GLYPH[verdict] ?? '·'}</text>`;
      out.push(href ? `<a href="${esc(href)}" ${attrs}>${inner}</a>` : `<g ${attrs}>${inner}</g>`);
    });
  });
  let y = TOP + m.claims.length * cellH + 16;
  // The legend: the verdicts this grid shows, each with its colour and glyph.
  const shown = [...new Set(m.claims.flatMap((c) => m.columns.map((col) => c.cells[col.label] ?? 'missing')))];
  let lx = 0;
  for (const v of shown) {
    const w = 30 + v.length * 6;
    if (lx + w > width) {
      lx = 0;
      y += 16;
    }
    out.push(
      `<rect x="${lx}" y="${y - 10}" width="14" height="13" rx="2" fill="${VERDICT_COLOURS[v] ?? '#57606a'}"/>`,
      `<text x="${lx + 7}" y="${y}" text-anchor="middle" fill="#fff">${VERDICT_GLYPH[v] ?? '·'}</text><text x="${lx + 18}" y="${y}">${esc(v)}</text>`,
    );
    lx += w;
  }
  const linked = links.filter(Boolean).length;
  const how =
    linked === m.columns.length
      ? 'Each cell links to the claim in its column’s claims.html.'
      : linked
        ? 'A cell links to the claim in its column’s claims.html where that page lies beside the report; elsewhere its title holds the explanation.'
        : 'No column’s claims.html lies beside its report: each cell’s title holds the explanation.';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" data-figure="matrix-grid" viewBox="0 0 ${width} ${y + 6}" width="100%" style="max-width:${width}px;height:auto" ` +
    `role="img" aria-label="Verdicts by claim and column" font-family="system-ui, sans-serif" font-size="10" fill="currentColor"><title>Verdicts by claim and column</title>${out.join('')}</svg>`;
  const key = `<ol class="muted">${m.columns.map((c, k) => `<li value="${k + 1}">${esc(c.label)}${links[k] ? ` (<a href="${esc(links[k])}">claims.html</a>)` : ''}</li>`).join('')}</ol>`;
  return `<figure class="matrix-grid" style="margin:1rem 0">${svg}<figcaption class="muted">Claims (rows, those that differ first, marked ≠) by column. ${how}</figcaption>${key}</figure>`;
}

/** matrix.html; with `outDir`, where it is written, the grid's cells link to each column's claims.html beside its report. */
export function renderMatrixHtml(m: Matrix, opts: { outDir?: string } = {}): string {
  const head = `<thead><tr><th scope="col">row</th>${m.columns.map((c) => `<th scope="col">${esc(c.label)}</th>`).join('')}</tr></thead>`;
  const table = (rows: { label: string; cells: Record<string, string>; differs: boolean }[]) =>
    `<div class="scroll"><table>${head}<tbody>${rows
      .map(
        (r) =>
          `<tr data-verdict="${r.differs ? 'differs' : 'same'}"><th scope="row">${r.differs ? '<strong>≠</strong> ' : ''}${esc(r.label)}</th>${m.columns.map((c) => `<td>${badge(r.cells[c.label] ?? 'missing')}</td>`).join('')}</tr>`,
      )
      .join('\n')}</tbody></table></div>`;
  const body = `<h1>clonelab matrix</h1>
<p class="muted">${m.columns.length} columns, generated ${esc(m.generatedAt)}. Rows where the columns disagree come first.</p>
<h2 id="grid">Verdicts at a glance</h2>${matrixGrid(m, opts.outDir)}
${filters(['differs', 'same'], 'rows')}
<h2>Claims</h2>${table(m.claims.map((c) => ({ label: `${c.id}: ${c.statement}`, cells: c.cells, differs: c.differs })))}
<h2>Tests</h2>${table(m.tests.map((t) => ({ label: `${t.name} (${t.file})`, cells: t.cells, differs: t.differs })))}
<h2>Columns</h2>${m.columns
    .map(
      (c) =>
        `<h3>${esc(c.label)}</h3>${c.broken ? `<p>${badge('failed')} no report: ${esc(c.broken)}</p>` : envList(c.environment as unknown as Record<string, unknown>)}<p class="muted">from ${esc(c.source)}</p>`,
    )
    .join('')}`;
  return page('clonelab matrix', body);
}

/**
 * Write matrix.json, matrix.md and matrix.html into dir (each atomically),
 * after checking matrix.json against schemas/matrix.schema.json: a matrix
 * that does not match is a defect of clonelab, and nothing is written.
 */
export function writeMatrix(m: Matrix, dir: string): string[] {
  const json = checkedJson('matrix', m, join(dir, 'matrix.json'));
  const out: [string, string][] = [
    [join(dir, 'matrix.md'), renderMatrixMarkdown(m)],
    [join(dir, 'matrix.html'), renderMatrixHtml(m, { outDir: dir })],
    [join(dir, 'matrix.json'), json],
  ];
  for (const [f, text] of out) writeFileAtomic(f, text);
  return out.map(([f]) => f);
}
