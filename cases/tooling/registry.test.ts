/**
 * The claim registry checks itself, from the code (helpers/claims/registry-check.ts):
 * the family layout, a rule (or a reason) for every claim, the kinds the rules
 * read against the kinds the claim case files record, each case file's
 * "Claims:" header line, CLAIMS.md against the registry, and the expected
 * environment differences beside the claims. Each kind of drift is fed to the
 * checker once and must give its precise failure. Beside it: every testable
 * claim reads exactly the kinds it declares, and no case file writes a
 * placeholder where a value could not be read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { CLAIMS, evaluate, FAMILIES, findPlaceholder, nonEmpty, ObservationIndex, readsOf, type Claim } from '../../helpers/claims/index.js';
import { CLAIM_FAMILIES } from '../../helpers/claims/families.js';
import {
  checkRegistry,
  headerClaims,
  isSentence,
  parseClaimsTable,
  scanCaseFile,
  scanRepository,
  type Registry,
  type RepositoryScan,
} from '../../helpers/claims/registry-check.js';
import { environment } from '../../helpers/harness/environment.js';
import { buildClaimsReport, summaryLine } from '../../helpers/report/claims-report.js';
import { renderJunit } from '../../helpers/report/render.js';
import { healthyObservations, judge } from '../../helpers/claims/rule-cases.js';

const REGISTRY: Registry = { families: FAMILIES, claims: CLAIMS };
const SCAN = scanRepository(PROJECT_ROOT, CLAIM_FAMILIES);

test('the registry agrees with the claim case files, the family layout and CLAIMS.md', () => {
  expect(checkRegistry(REGISTRY, SCAN)).toEqual([]);
});

describe.each(CLAIMS.filter((c) => !c.notTestable))('claim $id', (claim) => {
  test('reads exactly the kinds it declares (needs and uses), on the healthy run', () => {
    const e = judge(claim.id, healthyObservations());
    expect(
      e.read.filter((k) => !readsOf(claim).includes(k)),
      'read without declaring',
    ).toEqual([]);
    expect(
      readsOf(claim).filter((k) => !e.read.includes(k)),
      'declared but never read',
    ).toEqual([]);
  });
});

/** The registry with one claim changed (or removed, when `patch` returns undefined). */
function withClaim(id: string, patch: (c: Claim) => Claim | undefined): Registry {
  const change = (cs: readonly Claim[]) => cs.flatMap((c) => (c.id === id ? (patch(c) ?? []) : [c]));
  return { families: REGISTRY.families.map((f) => ({ ...f, claims: change(f.claims) })), claims: change(REGISTRY.claims) };
}

/** The scan with one family's scan changed. */
function withFamilyScan(name: string, patch: (f: RepositoryScan['families'][number]) => RepositoryScan['families'][number]): RepositoryScan {
  return { ...SCAN, families: SCAN.families.map((f) => (f.name === name ? patch(structuredClone(f)) : f)) };
}

/** The scan with one case file's scan changed. */
const withCaseFile = (name: string, patch: (c: NonNullable<RepositoryScan['families'][number]['caseFile']>) => void) =>
  withFamilyScan(name, (f) => {
    patch(f.caseFile!);
    return f;
  });

describe('drift fails the check, with a message that says what to do', () => {
  test('a kind a rule needs that no case file records any more', () => {
    const scan = withCaseFile('ids', (c) => {
      c.recorded = c.recorded.filter((k) => k !== 'singleThreadProcess');
    });
    const failures = checkRegistry(REGISTRY, scan);
    expect(failures).toContain(
      "Claim A3 needs the kind singleThreadProcess, but no claim case file records it (no observe('singleThreadProcess', ...) in cases/claims/*.test.ts): record it, or stop reading it.",
    );
  });

  test('a claim ID removed from a case file header', () => {
    const scan = withCaseFile('ids', (c) => {
      c.header = (c.header as string[]).filter((id) => id !== 'A14');
    });
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      'cases/claims/ids.test.ts: its header\'s Claims: line does not match what the file records; it lacks A14 (the file records threadGroupIds, which A14 reads); the line must read " * Claims: A2 A3 A4 A6 A7 A8 A14 A15 C1".',
    ]);
  });

  test('a header that lists a claim reading nothing the file records, or no claim at all', () => {
    const scan = withCaseFile('ps', (c) => {
      c.header = ['C4', 'A3', 'Z9'];
    });
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      'cases/claims/ps.test.ts: its header\'s Claims: line does not match what the file records; it lists A3, whose rule reads nothing the file records; it lists Z9, which is no claim of the registry; the line must read " * Claims: C4".',
    ]);
  });

  test('a recorded kind no rule reads (an orphan)', () => {
    const scan = withCaseFile('ps', (c) => {
      c.recorded.push('psColumns');
    });
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      "The kind psColumns is recorded by cases/claims/ps.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/ps.ts.",
    ]);
  });

  test('an orphan of today, once its evidence-only declaration is gone', () => {
    const registry = { ...REGISTRY, families: REGISTRY.families.map((f) => (f.name === 'clone' ? { ...f, evidenceOnly: {} } : f)) };
    expect(checkRegistry(registry, SCAN)).toEqual([
      "The kind cloneNamespaces is recorded by cases/claims/clone.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/clone.ts.",
      "The kind cloneIdsWritten is recorded by cases/claims/clone.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/clone.ts.",
    ]);
  });

  test('an evidence-only declaration that is stale, contradicted, or without a reason', () => {
    const registry = {
      ...REGISTRY,
      families: REGISTRY.families.map((f) =>
        f.name === 'ps' ? { ...f, evidenceOnly: { psView: 'Kept for the report.', cloneIdsWritten: 'It is kept as evidence beside the verdicts.' } } : f,
      ),
    };
    expect(checkRegistry(registry, SCAN)).toEqual([
      'The kind psView is declared evidence-only in helpers/claims/ps.ts, but C4 reads it: remove the declaration.',
      'The reason the kind psView is evidence-only (helpers/claims/ps.ts) is not a sentence ("Kept for the report."): begin with a capital letter, end with a full stop, and say why in at least five words.',
      'helpers/claims/ps.ts declares the kind cloneIdsWritten evidence-only, but cases/claims/ps.test.ts does not record it: remove the declaration.',
    ]);
  });

  test('a claim without a rule', () => {
    const registry = withClaim('A3', ({ decide: _, ...c }) => c);
    expect(checkRegistry(registry, SCAN)).toEqual([
      'Claim A3 (helpers/claims/ids.ts) has no rule: give it decide() and its verdicts, or notTestable with the reason no observation on a Linux host can bear on it.',
    ]);
  });

  test('a rule without declared verdicts, or with one a rule cannot return', () => {
    expect(
      checkRegistry(
        withClaim('C4', ({ verdicts: _, ...c }) => c),
        SCAN,
      ),
    ).toEqual(['Claim C4 (helpers/claims/ps.ts) does not declare the verdicts its rule can return (verdicts: [...]), which its rule tests must each reach.']);
    expect(
      checkRegistry(
        withClaim('C4', (c) => ({ ...c, verdicts: ['confirmed', 'not-testable'] })),
        SCAN,
      ),
    ).toEqual([
      'Claim C4 (helpers/claims/ps.ts) declares the verdict "not-testable", which a rule cannot return (a rule returns one of confirmed, refuted, nuanced, inconclusive; not-testable is declared with notTestable).',
    ]);
  });

  test('a not-testable claim with a rule, kinds, or no reason', () => {
    const b5 = (patch: Partial<Claim>) =>
      checkRegistry(
        withClaim('B5', (c) => ({ ...c, ...patch })),
        SCAN,
      );
    expect(b5({ decide: () => ({ verdict: 'confirmed', explanation: 'x' }) })).toEqual([
      'Claim B5 (helpers/claims/thread-group.ts) has a rule and is declared not-testable: keep one.',
    ]);
    expect(b5({ needs: ['psView'] })).toContain(
      'Claim B5 (helpers/claims/thread-group.ts) is not-testable but declares kinds it reads (psView): a claim no observation bears on reads none.',
    );
    expect(b5({ notTestable: 'other OSes' })).toEqual([
      'Claim B5 (helpers/claims/thread-group.ts)\'s reason for being not-testable is not a sentence ("other OSes"): begin with a capital letter, end with a full stop, and say why in at least five words.',
    ]);
  });

  test("a claim without rule tests in its family's rules file", () => {
    const scan = withFamilyScan('ps', (f) => ({ ...f, ruleTests: [] }));
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      "Claim C4 (helpers/claims/ps.ts) has no rule tests in cases/rules/ps.rules.test.ts (ruleCases('C4', ...)).",
    ]);
    const moved = { ...scan, families: scan.families.map((f) => (f.name === 'ids' ? { ...f, ruleTests: [...f.ruleTests!, 'C4'] } : f)) };
    expect(checkRegistry(REGISTRY, moved)).toEqual([
      "Claim C4 (helpers/claims/ps.ts) has no rule tests in cases/rules/ps.rules.test.ts (ruleCases('C4', ...)); they are in cases/rules/ids.rules.test.ts: move them to the file of its family.",
    ]);
  });

  test('a family part missing, or a probe stand-in that is not true', () => {
    const scan = withFamilyScan('signals', (f) => ({ ...f, probe: false, ruleModule: false }));
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      'Family signals: helpers/claims/signals.ts is missing; every family keeps its kinds and rules in a module of its name.',
      'Family signals: native-helpers/signals.c is missing; add the probe, or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.',
    ]);
    const { caseFile: _, ruleTests: __, ...bare } = SCAN.families.find((f) => f.name === 'ps')!;
    expect(
      checkRegistry(
        REGISTRY,
        withFamilyScan('ps', () => bare),
      ),
    ).toEqual([
      'Family ps: cases/claims/ps.test.ts is missing; every family records its observations in a case file of its name.',
      'Family ps: cases/rules/ps.rules.test.ts is missing; every family tests its rules in a file of its name.',
      "Claim C4 needs the kind psView, but no claim case file records it (no observe('psView', ...) in cases/claims/*.test.ts): record it, or stop reading it.",
    ]);
    expect(
      checkRegistry(
        REGISTRY,
        withCaseFile('ps', (c) => (c.probes = ['signals'])),
      ),
    ).toEqual([
      'Family ps declares it runs the ids probe instead of its own, but cases/claims/ps.test.ts never starts it (it starts signals): correct the declaration in helpers/claims/families.ts.',
    ]);
    expect(
      checkRegistry(
        REGISTRY,
        withCaseFile('kernel-threads', (c) => (c.probes = ['ids'])),
      ),
    ).toEqual([
      'Family kernel-threads declares it runs no probe, but cases/claims/kernel-threads.test.ts starts ids: correct the declaration in helpers/claims/families.ts.',
    ]);
    expect(
      checkRegistry(
        REGISTRY,
        withFamilyScan('ps', (f) => ({ ...f, probe: true })),
      ),
    ).toEqual([
      'Family ps declares it has no probe of its own, but native-helpers/ps.c exists: remove the declaration from helpers/claims/families.ts, or the file.',
    ]);
  });

  test('CLAIMS.md out of step with the registry', () => {
    const md = readFileSync(join(PROJECT_ROOT, 'CLAIMS.md'), 'utf8');
    const scanOf = (text: string): RepositoryScan => ({ ...SCAN, claimsTable: parseClaimsTable(text) });
    const a3 = md.split('\n').findIndex((l) => l.startsWith('| A3 |')) + 1;
    expect(checkRegistry(REGISTRY, scanOf(md.replace(/^\| A3 \|.*\n/m, '')))).toEqual([
      "Claim A3 (helpers/claims/ids.ts) is not in CLAIMS.md's table: add its row.",
    ]);
    expect(checkRegistry(REGISTRY, scanOf(md.replace('| A3 | answer 1 |', '| A3 | answer 2 |')))).toEqual([
      `CLAIMS.md line ${a3} (A3) says where is "answer 2", the registry (helpers/claims/ids.ts) "answer 1": CLAIMS.md is the source; copy it into the claim's source.`,
    ]);
    expect(checkRegistry(REGISTRY, scanOf(md.replace('no other process shares this TGID', 'no other process has this TGID')))).toEqual([
      `CLAIMS.md line ${a3} (A3) has the excerpt "a "normal" process has PID=TGID and no other process has this TGID", the registry (helpers/claims/ids.ts) "a "normal" process has PID=TGID and no other process shares this TGID": CLAIMS.md is the source; copy it into the claim's excerpt.`,
    ]);
    expect(checkRegistry(REGISTRY, scanOf(md.replace('| A3 | answer 1 |', '| A3 | answer 1 |').replace(/(\| A3 \|.*\| )`ids` \|/, '$1`proc` |')))).toEqual([
      `CLAIMS.md line ${a3} (A3) names the family "proc", but the claim is defined in helpers/claims/ids.ts: correct CLAIMS.md's family column.`,
    ]);
    const statement = withClaim('A3', (c) => ({ ...c, statement: 'A single-threaded process has PID = TGID.' }));
    expect(checkRegistry(statement, SCAN)).toEqual([
      `CLAIMS.md line ${a3} (A3) has the statement "${CLAIMS.find((c) => c.id === 'A3')!.statement}", the registry (helpers/claims/ids.ts) "A single-threaded process has PID = TGID.": the registry is the source; copy its statement into CLAIMS.md.`,
    ]);
    const lines = md.split('\n');
    [lines[a3 - 1], lines[a3]] = [lines[a3]!, lines[a3 - 1]!];
    const swapped = checkRegistry(REGISTRY, scanOf(lines.join('\n')));
    expect(swapped[0]).toMatch(
      /^CLAIMS\.md lists the claims in the order T1 A1 A2 A4 A3 A5 .*, the registry in the order T1 A1 A2 A3 A4 A5 .*: the IDs are stable and ordered as in CLAIMS\.md\.$/,
    );
    expect(checkRegistry(REGISTRY, scanOf(md.replace('| A3 |', '| A16 |')))).toContain(
      `CLAIMS.md line ${a3} has claim A16, which the registry does not hold: add it to its family's module, or remove the row.`,
    );
    expect(parseClaimsTable('# Claims\n')).toEqual({ problem: 'CLAIMS.md has no table whose header begins "| ID |"' });
    expect(parseClaimsTable(md.replace("| clonelab's statement | family |", '|'))).toHaveProperty(
      'problem',
      expect.stringMatching(/^CLAIMS\.md's claim table \(line \d+\) has the columns "ID \| where \| seed excerpt \(abridged\)", where the check reads/),
    );
  });

  test('an expected environment difference naming an environment that is not made, the baseline, or no reason', () => {
    const expecting = (expectedIn: object) => withClaim('C4', (c) => ({ ...c, expectedIn: expectedIn }));
    expect(checkRegistry(expecting({ 'no-procps': { verdict: 'inconclusive', because: 'Without procps there is no ps to run at all.' } }), SCAN)).toEqual([
      "Claim C4's expectedIn.no-procps names an environment npm run check:environments does not make (it makes root, unprivileged, pid-namespace, hidepid, no-clone3, cpu-load; helpers/claims/checked-environments.ts).",
    ]);
    expect(checkRegistry(expecting({ root: { because: 'The baseline is where every verdict is compared.' } }), SCAN)).toEqual([
      "Claim C4's expectedIn.root: root is the baseline the others are compared with, and cannot differ from itself.",
    ]);
    expect(checkRegistry(expecting({ hidepid: { verdict: 'nuanced', because: 'hidden' } }), SCAN)).toEqual([
      'Claim C4\'s expectedIn.hidepid is not a sentence ("hidden"): begin with a capital letter, end with a full stop, and say why in at least five words.',
    ]);
  });
});

describe('the static scan', () => {
  test('reads the kinds, the probes and the header of a case file, outside comments', () => {
    const text = [
      '/**',
      ' * Something observed, with `observe(...)` named in prose.',
      ' *',
      ' * Claims: A3 A4',
      ' */',
      "const r = await observe('threadGroupIds', 'x', async () => {",
      "  const { probe } = await startProbe('ids', []);",
      '});',
      "// observe('commentedOut', ...)",
      'await observe("singleThreadProcess", "y", () => 1); await runProbe(\'clone\'); new Probe(\'libcalls\', []);',
      'await observe(kind, v, () => 1);',
    ].join('\n');
    expect(scanCaseFile(text)).toEqual({
      recorded: ['threadGroupIds', 'singleThreadProcess'],
      unreadable: ['line 11'],
      probes: ['ids', 'clone', 'libcalls'],
      header: ['A3', 'A4'],
    });
    expect(
      checkRegistry(
        REGISTRY,
        withCaseFile('ps', (c) => (c.unreadable = ['line 11'])),
      ),
    ).toEqual([
      "cases/claims/ps.test.ts calls observe() with a kind that is not a string literal (line 11): write the kind as observe('kind', ...), so that the registry check can see what it records.",
    ]);
  });

  test('a header without its Claims: line, with two, or with something that is not an ID', () => {
    expect(headerClaims('import x;\n')).toEqual({ problem: 'it has no doc comment at the top of the file' });
    expect(headerClaims('/**\n * Prose only.\n */\n')).toEqual({ problem: 'its header comment has no "Claims:" line' });
    expect(headerClaims('/**\n * Claims: A3\n * Claims: A4\n */\n')).toEqual({ problem: 'its header comment has 2 "Claims:" lines, where it needs one' });
    expect(headerClaims('/**\n * Claims: A3, A4 and C1\n */\n')).toEqual({
      problem: 'its "Claims:" line holds "and", which is not a claim ID (space-separated IDs such as A3, only)',
    });
    const scan = withCaseFile('ps', (c) => (c.header = { problem: 'its header comment has no "Claims:" line' }));
    expect(checkRegistry(REGISTRY, scan)).toEqual([
      'cases/claims/ps.test.ts: its header comment has no "Claims:" line; it records psView, so the line must read " * Claims: C4".',
    ]);
  });

  test('sees every claim case file and what it records (the check is not vacuous)', () => {
    expect(SCAN.families.map((f) => f.name)).toEqual([...CLAIM_FAMILIES]);
    for (const f of SCAN.families) expect(f.caseFile?.recorded.length, f.name).toBeGreaterThan(0);
    expect(Array.isArray(SCAN.claimsTable) && SCAN.claimsTable.length).toBe(CLAIMS.length);
  });

  test('a reason is a sentence', () => {
    for (const ok of [
      'It speaks of other operating systems; a run on a Linux kernel observes only Linux.',
      'No kernel thread is visible from a child PID namespace.',
    ])
      expect(isSentence(ok), ok).toBe(true);
    for (const bad of ['no kernel thread is visible from here.', 'No kernel thread is visible', 'Too short.', 'The value was undefined here, so nothing.'])
      expect(isSentence(bad), bad).toBe(false);
  });
});

test('check:environments states no expected verdicts of its own: it reads them from the claims', () => {
  const script = readFileSync(join(PROJECT_ROOT, 'scripts', 'check-environments.ts'), 'utf8');
  expect(script).not.toMatch(/\b(mustBe|mayDiffer)\b/);
  expect(script).toMatch(/expectedIn\(env\.name\)/);
  // Its table of environments is keyed by the names claims may use, so the compiler keeps the two equal.
  expect(script).toMatch(/\[N in CheckedEnvironment\]/);
});

test('B5 is not-testable by what it talks about, whatever is observed', () => {
  const b5 = CLAIMS.find((c) => c.id === 'B5')!;
  expect(b5.notTestable).toMatch(/other operating systems/);
  expect(b5.decide).toBeUndefined();
});

const CASES = join(PROJECT_ROOT, 'cases');

test('no case file writes a placeholder for a value it could not read', () => {
  // A value that could not be read, defaulted to -1, '?' or 'none', becomes a fact. Use must() instead.
  // (`?? 0` and `?? ''` have honest uses, counters and parsing, so they are left to review.)
  const placeholder = /\?\?\s*(-1|'\?'|'none'|"none")(?![\w.])/;
  const files = readdirSync(CASES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'));
  expect(files, 'the case files under cases/').toContain(join('claims', 'ids.test.ts'));
  const offenders = files
    .flatMap((f) =>
      readFileSync(join(CASES, f), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${relative(PROJECT_ROOT, join(CASES, f))}:${i + 1}`, line })),
    )
    .filter((l) => !/^\s*(\/\/|\*)/.test(l.line) && placeholder.test(l.line));
  expect(offenders.map((o) => `${o.where}: ${o.line.trim()}`)).toEqual([]);
});

test('findPlaceholder catches what unobserved values look like, and passes observed prose', () => {
  for (const bad of [
    'handled by undefined',
    'exit status null',
    'NaN ms',
    'state ?/? (zombie)',
    'called none(), which',
    'answered  (no signal)',
    'namespaces ()',
    'rules held: .',
    'pid -1 seen',
  ]) {
    expect(findPlaceholder(bad), bad).toBeDefined();
  }
  for (const ok of [
    'In 7 thread groups (pthread x1, clone x64), every task had Tgid 1234.',
    'Pid: 1234, Tgid: 1234; fdinfo Pid:-1 after the reap.',
    'getpid() returned the Tgid; exit() ended the group.',
  ]) {
    expect(findPlaceholder(ok), ok).toBeUndefined();
  }
});

describe('a rule that throws', () => {
  const index = new ObservationIndex(healthyObservations());
  const claim = (decide: Claim['decide']): Claim => ({
    id: 'X1',
    source: 'answer 1',
    excerpt: 'a claim',
    statement: 'a claim for this test',
    needs: ['threadGroupIds'],
    decide,
    verdicts: ['confirmed'],
  });

  test('is a defect: inconclusive in the report, broken, and an <error> in junit.xml', () => {
    const e = evaluate(
      claim(() => {
        throw new TypeError("Cannot read properties of undefined (reading 'tid')");
      }),
      index,
    );
    expect(e.verdict).toBe('inconclusive');
    expect(e.explanation).toMatch(/a defect of clonelab, not a finding about the kernel/);
    expect(e.broken).toMatch(/TypeError: Cannot read properties of undefined/);
    const report = buildClaimsReport({
      observations: [],
      tests: [],
      environment: { ...environment(), clone3: 'not probed by this test' },
      reason: 'passed',
      unhandledErrors: [],
    });
    report.claims[0] = { ...report.claims[0]!, broken: e.broken! };
    expect(renderJunit(report)).toMatch(new RegExp(`<testcase classname="claim rules" name="${report.claims[0].id}: [a-z-]+"><error message=`));
    expect(summaryLine(report)).toMatch(/BROKEN rules: /);
  });

  test('with Inconclusive is a rule that saw too little, not a defect', () => {
    const e = evaluate(
      claim(() => ({ verdict: 'confirmed', explanation: `${nonEmpty([], 'thread group').length} groups` })),
      index,
    );
    expect(e).toMatchObject({ verdict: 'inconclusive', explanation: 'No thread group was observed completely in this run.' });
    expect(e.broken).toBeUndefined();
  });
});
