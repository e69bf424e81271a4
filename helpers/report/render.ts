/**
 * claims.md, claims.html and junit.xml, rendered from one ClaimsReport so
 * that all four files say the same thing.
 */
import { VERDICTS } from '../claims/index.js';
import type { ShareRow } from '../claims/clone.js';
import { casesLine, shownResult, type ClaimResult, type ClaimsReport, type ReportObservation } from './claims-report.js';
import { badge, envList, esc, filters, page } from './html.js';
import { figureLinks, figureSection } from './figures/index.js';

/**
 * A claim's reason in one line, the "why" of the summary tables and JUnit:
 * the summary its rule wrote (ClaimResult.summary). A report written before
 * rules wrote one (an older matrix input) says so instead of guessing.
 */
export const whyOf = (c: ClaimResult): string =>
  (c as Partial<ClaimResult>).summary ?? 'No one-line reason in this report (written before clonelab recorded them): see the explanation.';

function trim(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters in claims.json)`;
}

const observationsOf = (r: ClaimsReport, c: ClaimResult): ReportObservation[] =>
  c.observations.map((ref) => r.observations.find((o) => o.id === ref.id)).filter((o): o is ReportObservation => !!o);

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The observations a claim's rule did not get, each with why (incomplete, or its test skipped). */
const setAsideLines = (c: ClaimResult): string[] => c.setAside.map((x) => `${x.id} (test: ${x.test}, ${x.testState}): ${x.reason}`);

/** A case file's errors outside its tests (it failed to load, a file-level hook threw). */
const fileErrors = (r: ClaimsReport): { file: string; error: string }[] =>
  r.cases.files.flatMap((f) => (f.errors ?? []).map((error) => ({ file: f.file, error })));

export function renderMarkdownSummary(r: ClaimsReport): string {
  const counts = VERDICTS.map((v) => `${r.summary[v]} ${v}`).join(' · ');
  return [
    `## clonelab: claims about Linux threads and processes, checked on ${r.environment.kernelRelease} (${r.environment.arch})`,
    '',
    `${counts}. Tests: ${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped.`,
    '',
    casesLine(r),
    '',
    '| ID | claim (in our words) | verdict | why |',
    '|---|---|---|---|',
    ...r.claims.map((c) => `| ${c.id} | ${mdCell(c.statement)} | **${c.verdict}** | ${c.partialRun ? '(partial run) ' : ''}${mdCell(whyOf(c))} |`),
    '',
  ].join('\n');
}

export function renderMarkdown(r: ClaimsReport): string {
  const env = r.environment;
  const sections = r.claims.map((c) => {
    const obs = observationsOf(r, c);
    return [
      `### ${c.id}: ${c.verdict}`,
      '',
      `> ${c.statement} (${c.source})`,
      '',
      ...(c.partialRun ? [`_${c.partialRun}_`, ''] : []),
      c.explanation,
      '',
      obs.length
        ? obs
            .map(
              (o) =>
                `<details><summary>${o.id} (test: ${mdCell(o.test)}, ${o.testState})</summary>\n\n\`\`\`json\n${trim(JSON.stringify(shownResult(o), null, 1), 1500)}\n\`\`\`\n\n</details>`,
            )
            .join('\n')
        : '_No observation was used for this claim._',
      '',
      ...(c.setAside.length ? ['Set aside (not completely observed, not used):', '', ...setAsideLines(c).map((l) => `- ${mdCell(l)}`), ''] : []),
      ...(c.broken ? ['**The rule for this claim threw (a defect of clonelab; the run failed):**', '', '```', c.broken, '```', ''] : []),
    ].join('\n');
  });
  const skipped = r.tests.list.filter((t) => t.state === 'skipped');
  const failed = r.tests.list.filter((t) => t.state === 'failed');
  return [
    '# clonelab claim-verification report',
    '',
    `Generated ${r.generatedAt} by clonelab ${r.tool.version} (report schema ${r.schemaVersion}). Every verdict below is computed from what this run observed; the full evidence is in claims.json.`,
    '',
    renderMarkdownSummary(r),
    failed.length
      ? `### Failed tests\n\n${failed.map((t) => `- ${t.name} (${t.file}): ${mdCell((t.errors ?? []).join('; ').slice(0, 300))}`).join('\n')}\n`
      : '',
    fileErrors(r).length
      ? `### Errors outside any test\n\n${fileErrors(r)
          .map(({ file, error }) => `- ${file}: ${mdCell(error.slice(0, 300))}`)
          .join('\n')}\n`
      : '',
    skipped.length ? `### Skipped tests\n\n${skipped.map((t) => `- ${t.name}: ${mdCell(t.skipReason ?? '')}`).join('\n')}\n` : '',
    '## Claims',
    '',
    ...sections,
    '## Environment',
    '',
    '| | |',
    '|---|---|',
    ...Object.entries(env).map(([k, v]) => `| ${k} | ${mdCell(Array.isArray(v) ? v.join(', ') : String(v))} |`),
    '',
  ].join('\n');
}

/** A field of ShareRow, as a path: one that names no field fails to compile rather than leave a column empty. */
type SharePath = ['shared', keyof NonNullable<ShareRow['shared']>] | [Exclude<keyof ShareRow, 'shared'>];
/**
 * The columns of the sharing matrix: a label and the path of a field of a
 * ShareRow (✔ when set, · when not). Data, not code: the page builds the
 * 256-row tables from the cloneMatrix observation when one is opened
 * (EVIDENCE_SCRIPT), so the rows are in the page once, as the observation.
 */
const SHARE_COLUMNS: [string, SharePath][] = [
  ['memory', ['shared', 'memory']],
  ['files', ['shared', 'files']],
  ['fs', ['shared', 'fs']],
  ['sighand', ['shared', 'sighand']],
  ['sysvsem', ['shared', 'sysvsem']],
  ['same TGID', ['sameTgid']],
  ['waitable', ['waitable']],
  ['SIGCHLD', ['exitSignalToCaller']],
  ["parent is caller's parent", ['parentIsCallersParent']],
  ['caller suspended', ['callerSuspended']],
];

function sharingTables(r: ClaimsReport): string {
  const matrices = r.observations.filter((o): o is ReportObservation<'cloneMatrix'> & { complete: true } => o.kind === 'cloneMatrix' && o.complete);
  const rules = r.observations.find((o): o is ReportObservation<'cloneRules'> & { complete: true } => o.kind === 'cloneRules' && o.complete);
  // Each matrix: its summary now, its 256 rows when opened (filled from the observation by EVIDENCE_SCRIPT).
  const matrixHtml = matrices
    .map((m) => {
      const res = m.result;
      return `<details data-obs="${esc(m.id)}" data-fill="share-table"><summary>${esc(res.api)}: ${res.rows.filter((x) => x.accepted).length} of ${res.rows.length} combinations accepted (${res.perComboUs.toFixed(0)} µs each)</summary>
<div class="scroll"><table><caption class="muted">What a child made with these flags shared with its creator (✔ shared, · not)</caption>
<thead><tr><th scope="col">flags</th><th scope="col">result</th>${SHARE_COLUMNS.map(([n]) => `<th scope="col">${esc(n)}</th>`).join('')}</tr></thead><tbody></tbody></table></div></details>`;
    })
    .join('\n');
  const rulesRows = rules?.result.rows ?? [];
  const rulesHtml = rulesRows.length
    ? `<div class="scroll"><table><caption class="muted">Flag sets the kernel must refuse (and two controls)</caption><thead><tr><th scope="col">rule</th><th scope="col">API</th><th scope="col">flags</th><th scope="col">exit signal</th><th scope="col">expected</th><th scope="col">observed</th></tr></thead><tbody>
${rulesRows.map((x) => `<tr><td>${esc(x.rule)}</td><td>${esc(x.api)}</td><td>${esc(x.flags)}</td><td>${x.exitSignal}</td><td>${esc(x.expected)}</td><td>${esc(x.result)}</td></tr>`).join('\n')}
</tbody></table></div>`
    : '<p class="muted">The errno table was not observed in this run.</p>';
  return `<h2 id="sharing">clone(2) sharing matrix</h2>${matrixHtml || '<p class="muted">The sharing matrix was not observed in this run.</p>'}<h2 id="errnos">Refused flag sets (errno table)</h2>${rulesHtml}`;
}

/** How much of a result a claim's own evidence shows (its link leads to the whole, listed once below the claims). */
const CLAIM_RESULT_CHARS = 3000;

/**
 * Every observation's result and evidence, once, as JSON in an inert
 * <script type="application/json">: the page parses it only when a section
 * that shows one is opened. "<" is written \u003c so that no text in the
 * evidence (a /proc dump, a transcript) can end the script element.
 */
function evidenceData(r: ClaimsReport): string {
  const data = {
    observations: Object.fromEntries(r.observations.map((o) => [o.id, { result: shownResult(o), evidence: o.evidence }])),
    shareColumns: SHARE_COLUMNS,
  };
  return `<script type="application/json" id="clonelab-evidence">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

/**
 * Puts evidence into a <details data-obs=ID data-fill=...> the first time it
 * opens (or before printing, when every <details> opens): "result" shows the
 * observation's result (its first data-max characters), "all" its result and evidence, "share-table" the
 * rows of a cloneMatrix observation under SHARE_COLUMNS. A link to an
 * observation's anchor opens it.
 */
const EVIDENCE_SCRIPT = `
(() => {
  const source = document.getElementById('clonelab-evidence');
  let data;
  const get = () => (data ??= JSON.parse(source.textContent));
  const json = (v) => JSON.stringify(v, null, 1);
  const mark = (v) => (v === undefined || v === null ? '' : v ? '\u2714' : '\u00b7');
  function fill(d) {
    if (d.dataset.filled) return;
    d.dataset.filled = 'true';
    const o = get().observations[d.dataset.obs];
    if (!o) return;
    if (d.dataset.fill === 'share-table') {
      const body = d.querySelector('tbody');
      for (const row of o.result.rows) {
        const tr = body.insertRow();
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = row.flags;
        tr.append(th);
        tr.insertCell().textContent = row.accepted ? 'accepted' : row.errno;
        for (const [, path] of get().shareColumns) {
          const td = tr.insertCell();
          td.className = 'c';
          td.textContent = mark(path.reduce((v, k) => (v == null ? v : v[k]), row));
        }
      }
    } else {
      const text = json(d.dataset.fill === 'all' ? o : o.result);
      const max = Number(d.dataset.max || Infinity);
      d.querySelector('pre').textContent = text.length <= max ? text : text.slice(0, max) + '\\n\u2026 (' + (text.length - max) + ' more characters: see the full evidence)';
    }
  }
  document.addEventListener('toggle', (e) => { if (e.target.open && e.target.dataset && e.target.dataset.obs) fill(e.target); }, true);
  window.addEventListener('beforeprint', () => document.querySelectorAll('details[data-obs]').forEach(fill));
  function openTarget() {
    const t = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (t && t.tagName === 'DETAILS') { t.open = true; fill(t); }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
`;

const anchor = (id: string) => `obs-${id.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

export function renderHtml(r: ClaimsReport): string {
  const rows = r.claims
    .map((c) => {
      const obs = observationsOf(r, c);
      // What each observation found, put in from the page's one copy of the observations when opened;
      // the evidence (probe records, /proc text) is listed once, below.
      const evidence = obs.length
        ? obs
            .map(
              (o) =>
                `<details class="evidence" data-obs="${esc(o.id)}" data-fill="result" data-max="${CLAIM_RESULT_CHARS}"><summary>${esc(o.id)} <span class="muted">(${esc(o.test)}: ${esc(o.testState)})</span></summary><pre></pre><p><a href="#${anchor(o.id)}">full evidence</a></p></details>`,
            )
            .join('')
        : '<p class="muted">No observation was used for this claim.</p>';
      const aside = c.setAside.length
        ? `<h3 class="muted">Set aside (not completely observed, not used)</h3><ul>${setAsideLines(c)
            .map((l) => `<li>${esc(l)}</li>`)
            .join('')}</ul>`
        : '';
      const broken = c.broken ? `<p><strong>The rule for this claim threw (a defect of clonelab; the run failed):</strong></p><pre>${esc(c.broken)}</pre>` : '';
      return `<tr id="claim-${esc(c.id)}" data-verdict="${esc(c.verdict)}" data-claim="${esc(c.id)}">
<th scope="row">${esc(c.id)}</th>
<td><details class="claim"><summary>${esc(c.statement)} <span class="muted hide-narrow">(${esc(c.source)})</span></summary>
${c.partialRun ? `<p class="muted partial-run"><em>${esc(c.partialRun)}</em></p>\n` : ''}<p>${esc(c.explanation)}</p>
${figureLinks(c.id)}<h3 class="muted">Evidence</h3>${evidence}${aside}${broken}</details></td>
<td>${badge(c.verdict)}${c.partialRun ? ' <span class="muted">(partial run)</span>' : ''}</td>
<td class="hide-narrow">${esc(whyOf(c))}</td>
</tr>`;
    })
    .join('\n');
  const allObservations = r.observations
    .map(
      (o) =>
        `<details id="${anchor(o.id)}" data-obs="${esc(o.id)}" data-fill="all"><summary>${esc(o.id)} <span class="muted">(${esc(o.test)}: ${esc(o.testState)})</span></summary><pre></pre></details>`,
    )
    .join('\n');
  const counts = VERDICTS.map((v) => `<li>${badge(v)} <strong data-count="${v}">${r.summary[v]}</strong></li>`).join('');
  const tests = r.tests.list.filter((t) => t.state !== 'passed');
  const body = `<header>
<h1>clonelab: are Linux threads really processes?</h1>
<p class="muted">Claims of the Q&amp;A "Are Linux kernel threads really kernel processes?", checked on Linux ${esc(r.environment.kernelRelease)} (${esc(r.environment.arch)}, ${esc(r.environment.libc)}), environment "${esc(r.environment.name)}", ${esc(r.generatedAt)}. Each verdict is computed from this run's observations; expand a claim for its evidence.</p>
</header>
<main>
<h2 id="summary">Summary</h2>
<ul class="counts" aria-label="verdict counts">${counts}</ul>
<p>Tests: <strong data-tests="passed">${r.tests.passed}</strong> passed, <strong data-tests="failed">${r.tests.failed}</strong> failed, <strong data-tests="skipped">${r.tests.skipped}</strong> skipped.</p>
<p data-cases="${r.cases.complete ? 'complete' : 'partial'}">${esc(casesLine(r))}</p>
<h2 id="claims">Claims</h2>
${filters([...VERDICTS], 'claims')}
<div class="scroll"><table id="claims-table">
<thead><tr><th scope="col">ID</th><th scope="col">claim (in our words)</th><th scope="col">verdict</th><th scope="col" class="hide-narrow">why</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${figureSection(r)}
${sharingTables(r)}
<h2 id="tests">Tests not passed</h2>
${tests.length ? `<ul>${tests.map((t) => `<li>${badge(t.state)} ${esc(t.name)}: ${esc(t.skipReason ?? (t.errors ?? []).join('; ').slice(0, 500))}</li>`).join('')}</ul>` : '<p>Every test passed.</p>'}
${
  fileErrors(r).length
    ? `<h3>Errors outside any test</h3><ul>${fileErrors(r)
        .map(({ file, error }) => `<li>${esc(file)}: ${esc(error.slice(0, 500))}</li>`)
        .join('')}</ul>`
    : ''
}
<h2 id="observations">All observations, with their evidence</h2>
<noscript><p>This page puts each observation's result and evidence in when its section is opened, with JavaScript; without it, read them in claims.json beside this page.</p></noscript>
${allObservations || '<p class="muted">None.</p>'}
<h2 id="environment">Environment</h2>
${envList(r.environment as unknown as Record<string, unknown>)}
</main>
${evidenceData(r)}
<script>${EVIDENCE_SCRIPT}</script>`;
  return page(`clonelab report: ${r.environment.kernelRelease}`, body);
}

// eslint-disable-next-line no-control-regex -- the C0 controls XML 1.0 cannot carry (all but tab, LF, CR) are removed
const xml = (s: unknown) => esc(s).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function renderJunit(r: ClaimsReport): string {
  // Properties go in each testsuite: that is where JUnit readers (Jenkins, GitLab) look for them.
  const props = `    <properties>\n      <property name="kernelRelease" value="${xml(r.environment.kernelRelease)}"/>\n      <property name="claimCaseFiles.complete" value="${r.cases.complete}"/>\n${VERDICTS.map((v) => `      <property name="claims.${v}" value="${r.summary[v]}"/>`).join('\n')}\n    </properties>`;
  const byFile = new Map<string, ClaimsReport['tests']['list']>();
  for (const t of r.tests.list) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);
  const suites = [...byFile].map(([file, tests]) => {
    const n = (s: string) => tests.filter((t) => t.state === s).length;
    const cases = tests
      .map((t) => {
        const inner =
          t.state === 'failed'
            ? `<failure message="${xml((t.errors ?? ['failed'])[0]!.split('\n')[0])}">${xml((t.errors ?? []).join('\n\n'))}</failure>`
            : t.state === 'skipped' || t.state === 'pending'
              ? `<skipped message="${xml(t.skipReason ?? 'skipped')}"/>`
              : '';
        return `    <testcase classname="${xml(file)}" name="${xml(t.name)}">${inner}</testcase>`;
      })
      .join('\n');
    return `  <testsuite name="${xml(file)}" tests="${tests.length}" failures="${n('failed')}" skipped="${n('skipped') + n('pending')}" errors="0">\n${props}\n${cases}\n  </testsuite>`;
  });
  // The rules themselves, one case per claim, its reason in one line as the case's output (CI systems show it
  // beside the case): a rule that threw is an <error> with that line as its message (a defect of clonelab, not a finding).
  const broken = r.claims.filter((c) => c.broken);
  const ruleCases = r.claims
    .map(
      (c) =>
        `    <testcase classname="claim rules" name="${xml(`${c.id}: ${c.verdict}`)}">${c.broken ? `<error message="${xml(whyOf(c))}">${xml(c.broken)}</error>` : ''}<system-out>${xml(whyOf(c))}</system-out></testcase>`,
    )
    .join('\n');
  suites.push(
    `  <testsuite name="claim rules" tests="${r.claims.length}" failures="0" skipped="0" errors="${broken.length}">\n${props}\n${ruleCases}\n  </testsuite>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="clonelab" tests="${r.tests.total + r.claims.length}" failures="${r.tests.failed}" skipped="${r.tests.skipped}" errors="${broken.length}">
${suites.join('\n')}
</testsuites>
`;
}
