/**
 * Merges claims reports from several kernels or environments into one
 * matrix: claims by column (verdicts), tests by column (outcomes), the rows
 * where columns disagree first, and each column's environment.
 */
import { join } from 'node:path';
import type { ClaimsReport } from './claims-report.js';
import { SCHEMA_VERSION } from './claims-report.js';
import { writeFileAtomic } from '../harness/fs.js';
import { checkedJson } from './schema.js';
import { badge, envList, esc, filters, page } from './html.js';

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
  claims: { id: string; statement: string; cells: Record<string, string>; differs: boolean }[];
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
    return { id, statement, cells, differs: differs(cells) };
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

export function renderMatrixHtml(m: Matrix): string {
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
    [join(dir, 'matrix.html'), renderMatrixHtml(m)],
    [join(dir, 'matrix.json'), json],
  ];
  for (const [f, text] of out) writeFileAtomic(f, text);
  return out.map(([f]) => f);
}
