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
import { factDifferences, factRows, factValue, type FactDifference } from './observation-diff.js';
import { describeWorld, worldLabels, worldOf, type World } from './world.js';

export type { FactDifference } from './observation-diff.js';

export interface MatrixColumn {
  label: string;
  source: string;
  environment: ClaimsReport['environment'];
  summary: ClaimsReport['summary'];
  tests: { passed: number; failed: number; skipped: number; total: number };
  /** What world its report was made in (helpers/report/world.ts); absent for a column without a report. */
  world?: World;
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
    /** Whether the verdicts differ. */
    differs: boolean;
    /**
     * The facts of the observations this claim's rule read that differ
     * between the columns with a report (helpers/report/observation-diff.ts),
     * whether or not the verdicts do.
     */
    facts: FactDifference[];
  }[];
  tests: { name: string; file: string; cells: Record<string, string>; differs: boolean }[];
}

/** One input: a report and where it came from, or a column that produced none. */
export type MatrixInput = { source: string; report: ClaimsReport; label?: string } | { source: string; label: string; broken: string };

export function buildMatrix(inputs: MatrixInput[]): Matrix {
  const used = new Set<string>();
  const worlds = inputs.map((i) => ('report' in i ? worldOf(i.report.environment) : undefined));
  const withWorld = inputs.flatMap((i, k) => ('report' in i && worlds[k] ? [{ k, name: i.report.environment.name, world: worlds[k] }] : []));
  const defaultLabels = new Map(worldLabels(withWorld).map((l, n) => [withWorld[n]!.k, l]));
  const columns: MatrixColumn[] = inputs.map((i, k) => {
    const base = i.label ?? defaultLabels.get(k) ?? i.source;
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
      world: worlds[k],
      summary: i.report.summary,
      tests: { passed: t.passed, failed: t.failed, skipped: t.skipped, total: t.total },
    };
  });
  const reports = inputs.map((i) => ('report' in i ? i.report : undefined));
  const factsOf = factDifferences(columns.flatMap((c, k): [string, ClaimsReport][] => (reports[k] ? [[c.label, reports[k]]] : [])));
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
    return { id, statement, cells, explanations, differs: differs(cells), facts: factsOf(id) };
  });
  const testKeys = [...new Set(reports.flatMap((r) => r?.tests.list.map((t) => `${t.file}\u0000${t.name}`) ?? []))];
  const tests = testKeys.map((key) => {
    const [file, name] = key.split('\u0000') as [string, string];
    const cells = Object.fromEntries(
      columns.map((c, k) => {
        const r = reports[k];
        const state = r?.tests.list.find((t) => t.file === file && t.name === name)?.state;
        return [c.label, state ?? (c.broken ? 'broken' : r && !r.cases.files.some((f) => f.file === file) ? 'not-run' : 'missing')];
      }),
    );
    // A file a column did not run (npm test's tool tests beside a report of the claim files) is no difference.
    return { name, file, cells, differs: differs(Object.fromEntries(Object.entries(cells).filter(([, v]) => v !== 'not-run'))) };
  });
  // Disagreements first, then in registry / file order; among claims, a differing verdict before differing facts alone.
  const firstDiffering = <T extends { differs: boolean }>(xs: T[]) => [...xs.filter((x) => x.differs), ...xs.filter((x) => !x.differs)];
  const byFacts = firstDiffering(claims.map((c) => ({ c, differs: c.facts.length > 0 }))).map((x) => x.c);
  return { schemaVersion: SCHEMA_VERSION, generatedAt: new Date().toISOString(), columns, claims: firstDiffering(byFacts), tests: firstDiffering(tests) };
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

type MatrixClaim = Matrix['claims'][number];

/** How many facts of a claim's observations differ, beside its verdict row: "same verdict, 2 facts differ"; empty when none do. */
export function factsNote(c: MatrixClaim): string {
  if (!c.facts.length) return '';
  const n = `${c.facts.length} fact${c.facts.length === 1 ? '' : 's'} differ${c.facts.length === 1 ? 's' : ''}`;
  return c.differs ? n : `same verdict, ${n}`;
}

/**
 * At most this many rows of facts per claim in matrix.md and matrix.html (a
 * whole clone flag matrix can change at once); matrix.json holds them all.
 */
export const FACTS_SHOWN = 30;

/** The rows of a claim's facts beyond FACTS_SHOWN, as a line for the pages; empty when all are shown. */
const moreFacts = (c: MatrixClaim) => {
  const n = factRows(c.facts).length - FACTS_SHOWN;
  return n > 0 ? `and ${n} more rows of facts (matrix.json lists them all)` : '';
};

/**
 * What differs, verdicts and facts apart, in one line: the pages' headline and
 * what npm run kernels and npm run report:matrix print.
 */
export function differenceSummary(m: Matrix): string {
  const diffClaims = m.claims.filter((c) => c.differs).length;
  const diffTests = m.tests.filter((t) => t.differs).length;
  const factClaims = m.claims.filter((c) => c.facts.length).length;
  const sameVerdict = m.claims.filter((c) => c.facts.length && !c.differs).length;
  const facts = m.claims.reduce((n, c) => n + c.facts.length, 0);
  return (
    `${diffClaims} claims and ${diffTests} tests differ between ${m.columns.length} columns; ` +
    `${factClaims} claims read observations whose facts differ (${facts} facts; ${sameVerdict} of these claims with the same verdict)`
  );
}

/** The headline both pages share. */
const headline = (m: Matrix) => `${differenceSummary(m)}. Verdicts that differ come first, marked ≠, then facts alone, marked Δ`;

/** A claim's row label, with its facts note. */
const claimLabel = (c: MatrixClaim) => `${c.id}: ${c.statement}${c.facts.length ? ` (${factsNote(c)})` : ''}`;

export function renderMatrixMarkdown(m: Matrix): string {
  const head = `| | ${m.columns.map((c) => mdCell(c.label)).join(' | ')} |\n|---|${m.columns.map(() => '---').join('|')}|`;
  const row = (label: string, cells: Record<string, string>, differs: boolean, mark = differs ? '**≠** ' : '') =>
    `| ${mark}${mdCell(label)} | ${m.columns.map((c) => (differs ? `**${cells[c.label]}**` : cells[c.label])).join(' | ')} |`;
  const withReport = m.columns.filter((c) => !c.broken);
  const factHead = `| observations | fact | ${withReport.map((c) => mdCell(c.label)).join(' | ')} |\n|---|---|${withReport.map(() => '---').join('|')}|`;
  const factSections = m.claims
    .filter((c) => c.facts.length)
    .flatMap((c) => [
      `### ${c.id}: ${factsNote(c)}`,
      '',
      factHead,
      ...factRows(c.facts)
        .slice(0, FACTS_SHOWN)
        .map((f) => `| ${mdCell(f.observations)} | \`${mdCell(f.path)}\` | ${withReport.map((col) => mdCell(factValue(f, col.label))).join(' | ')} |`),
      ...(moreFacts(c) ? ['', moreFacts(c)] : []),
      '',
    ]);
  return [
    '# clonelab matrix',
    '',
    `${headline(m)}.`,
    '',
    '## Claims',
    '',
    head,
    ...m.claims.map((c) => row(claimLabel(c), c.cells, c.differs, c.differs ? '**≠** ' : c.facts.length ? '**Δ** ' : '')),
    '',
    '## Facts that differ',
    '',
    factSections.length
      ? 'Per claim, the leaves of the observations its rule read whose values differ between columns (task IDs renamed #1, #2… per observation; times, ticks and system-wide counts left out: helpers/report/observation-diff.ts; one row for the variants of a kind that changed alike).'
      : 'None: every observation the claims read has the same facts in every column with a report (task IDs, times, ticks and system-wide counts left out).',
    '',
    ...factSections,
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
        : `- **${c.label}** (${c.source}): ${describeWorld(c.world ?? worldOf(c.environment))}; tests ${c.tests.passed} passed, ${c.tests.failed} failed, ${c.tests.skipped} skipped`,
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
    const mark = claim.differs ? '≠ ' : claim.facts.length ? 'Δ ' : '';
    out.push(
      `<text x="0" y="${y + cellH - 5}"${mark ? ' font-weight="700"' : ''}>${mark}${esc(claim.id)}${claim.facts.length ? `<title>${esc(`${claim.id}: ${factsNote(claim)}`)}</title>` : ''}</text>`,
    );
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
  return `<figure class="matrix-grid" style="margin:1rem 0">${svg}<figcaption class="muted">Claims (rows, those whose verdicts differ first, marked ≠, then those whose observations differ in facts alone, marked Δ) by column. ${how}</figcaption>${key}</figure>`;
}

/** matrix.html; with `outDir`, where it is written, the grid's cells link to each column's claims.html beside its report. */
export function renderMatrixHtml(m: Matrix, opts: { outDir?: string } = {}): string {
  const head = `<thead><tr><th scope="col">row</th>${m.columns.map((c) => `<th scope="col">${esc(c.label)}</th>`).join('')}</tr></thead>`;
  const table = (rows: { label: string; cells: Record<string, string>; differs: boolean; facts?: MatrixClaim }[]) =>
    `<div class="scroll"><table>${head}<tbody>${rows
      .map((r) => {
        const mark = r.differs ? '<strong>≠</strong> ' : r.facts?.facts.length ? '<strong>Δ</strong> ' : '';
        const note = r.facts?.facts.length ? ` <a href="#facts-${encodeURIComponent(r.facts.id)}" data-role="facts-note">${esc(factsNote(r.facts))}</a>` : '';
        return `<tr data-verdict="${r.differs ? 'differs' : 'same'}"><th scope="row">${mark}${esc(r.label)}${note}</th>${m.columns.map((c) => `<td>${badge(r.cells[c.label] ?? 'missing')}</td>`).join('')}</tr>`;
      })
      .join('\n')}</tbody></table></div>`;
  const withReport = m.columns.filter((c) => !c.broken);
  const factTables = m.claims
    .filter((c) => c.facts.length)
    .map(
      (c) =>
        `<h3 id="facts-${esc(encodeURIComponent(c.id))}">${esc(c.id)}: ${esc(factsNote(c))}</h3><div class="scroll"><table data-role="facts" data-claim="${esc(c.id)}"><thead><tr><th scope="col">observations</th><th scope="col">fact</th>${withReport
          .map((col) => `<th scope="col">${esc(col.label)}</th>`)
          .join('')}</tr></thead><tbody>${factRows(c.facts)
          .slice(0, FACTS_SHOWN)
          .map(
            (f) =>
              `<tr><td>${esc(f.observations)}</td><td><code>${esc(f.path)}</code></td>${withReport.map((col) => `<td><code>${esc(factValue(f, col.label))}</code></td>`).join('')}</tr>`,
          )
          .join('')}</tbody></table></div>${moreFacts(c) ? `<p class="muted">${esc(moreFacts(c))}</p>` : ''}`,
    )
    .join('\n');
  const body = `<h1>clonelab matrix</h1>
<p class="muted">Generated ${esc(m.generatedAt)}. ${esc(headline(m))}.</p>
<h2 id="grid">Verdicts at a glance</h2>${matrixGrid(m, opts.outDir)}
${filters(['differs', 'same'], 'rows')}
<h2>Claims</h2>${table(m.claims.map((c) => ({ label: `${c.id}: ${c.statement}`, cells: c.cells, differs: c.differs, facts: c })))}
<h2 id="facts">Facts that differ</h2>${
    factTables
      ? `<p class="muted">Per claim, the leaves of the observations its rule read whose values differ between columns (task IDs renamed #1, #2… per observation; times, ticks and system-wide counts left out).</p>${factTables}`
      : '<p class="muted">None: every observation the claims read has the same facts in every column with a report.</p>'
  }
<h2>Tests</h2>${table(m.tests.map((t) => ({ label: `${t.name} (${t.file})`, cells: t.cells, differs: t.differs })))}
<h2>Columns</h2>${m.columns
    .map(
      (c) =>
        `<h3>${esc(c.label)}</h3>${c.broken ? `<p>${badge('failed')} no report: ${esc(c.broken)}</p>` : `<p>${esc(describeWorld(c.world ?? worldOf(c.environment)))}</p>${envList(c.environment as unknown as Record<string, unknown>)}`}<p class="muted">from ${esc(c.source)}</p>`,
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
