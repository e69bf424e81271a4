/**
 * claims.md, claims.html and junit.xml, rendered from one ClaimsReport so
 * that all four files say the same thing.
 */
import { VERDICTS } from '../claims/index.js';
import type { ShareRow } from '../claims/clone.js';
import { casesLine, shownResult, type ClaimResult, type ClaimsReport, type ReportObservation } from './claims-report.js';
import { badge, envList, esc, filters, page } from './html.js';

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

const SHARE_COLUMNS: [string, (r: ShareRow) => boolean | undefined][] = [
  ['memory', (r) => r.shared?.memory],
  ['files', (r) => r.shared?.files],
  ['fs', (r) => r.shared?.fs],
  ['sighand', (r) => r.shared?.sighand],
  ['sysvsem', (r) => r.shared?.sysvsem],
  ['same TGID', (r) => r.sameTgid],
  ['waitable', (r) => r.waitable],
  ['SIGCHLD', (r) => r.exitSignalToCaller],
  ["parent is caller's parent", (r) => r.parentIsCallersParent],
  ['caller suspended', (r) => r.callerSuspended],
];

function sharingTables(r: ClaimsReport): string {
  const matrices = r.observations.filter((o): o is ReportObservation<'cloneMatrix'> & { complete: true } => o.kind === 'cloneMatrix' && o.complete);
  const rules = r.observations.find((o): o is ReportObservation<'cloneRules'> & { complete: true } => o.kind === 'cloneRules' && o.complete);
  const yes = (b: boolean | undefined) => (b === undefined ? '' : b ? '✔' : '·');
  const matrixHtml = matrices
    .map((m) => {
      const res = m.result;
      return `<details><summary>${esc(res.api)}: ${res.rows.filter((x) => x.accepted).length} of ${res.rows.length} combinations accepted (${res.perComboUs.toFixed(0)} µs each)</summary>
<div class="scroll"><table><caption class="muted">What a child made with these flags shared with its creator (✔ shared, · not)</caption>
<thead><tr><th scope="col">flags</th><th scope="col">result</th>${SHARE_COLUMNS.map(([n]) => `<th scope="col">${esc(n)}</th>`).join('')}</tr></thead><tbody>
${res.rows.map((x) => `<tr><th scope="row">${esc(x.flags)}</th><td>${x.accepted ? 'accepted' : esc(x.errno)}</td>${SHARE_COLUMNS.map(([, f]) => `<td class="c">${yes(f(x))}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div></details>`;
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

const anchor = (id: string) => `obs-${id.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

export function renderHtml(r: ClaimsReport): string {
  const rows = r.claims
    .map((c) => {
      const obs = observationsOf(r, c);
      // Inline: what each observation found (trimmed); the full evidence is listed once, below.
      const evidence = obs.length
        ? obs
            .map(
              (o) =>
                `<details class="evidence"><summary>${esc(o.id)} <span class="muted">(${esc(o.test)}: ${esc(o.testState)})</span></summary><pre>${esc(trim(JSON.stringify(shownResult(o), null, 1), 3000))}</pre><p><a href="#${anchor(o.id)}">full evidence</a></p></details>`,
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
<h3 class="muted">Evidence</h3>${evidence}${aside}${broken}</details></td>
<td>${badge(c.verdict)}${c.partialRun ? ' <span class="muted">(partial run)</span>' : ''}</td>
<td class="hide-narrow">${esc(whyOf(c))}</td>
</tr>`;
    })
    .join('\n');
  const allObservations = r.observations
    .map(
      (o) =>
        `<details id="${anchor(o.id)}"><summary>${esc(o.id)} <span class="muted">(${esc(o.test)}: ${esc(o.testState)})</span></summary><pre>${esc(trim(JSON.stringify({ result: shownResult(o), evidence: o.evidence }, null, 1), 60000))}</pre></details>`,
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
${allObservations || '<p class="muted">None.</p>'}
<h2 id="environment">Environment</h2>
${envList(r.environment as unknown as Record<string, unknown>)}
</main>`;
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
