/**
 * The claim registry checks itself, from the code (helpers/claims/registry-check.ts):
 * the family layout (each family's case file runs its own probe, itself or
 * through a harness function, or the one it declares instead), a rule (or a
 * reason) for every claim, the kinds the rules read against the kinds the
 * claim case files record, each case file's "Claims:" header line, CLAIMS.md
 * against the registry, and the expected environment differences beside the
 * claims. The tree as it is must pass; each kind of drift is then fed to the
 * checker once and must add its own precise failure to whatever the tree
 * fails, so that a real drift fails the first test and only the drift tests
 * about the same thing. Beside it: every testable claim reads exactly the
 * kinds it declares, and no case file writes a placeholder where a value
 * could not be read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import {
  CLAIMS,
  evaluate,
  FAMILIES,
  findPlaceholder,
  nonEmpty,
  ObservationIndex,
  readsOf,
  type Claim,
  type RegistryFamily,
} from '../../helpers/claims/index.js';
import { BASELINE_ENVIRONMENT, CHECKED_ENVIRONMENTS } from '../../helpers/claims/checked-environments.js';
import { CLAIM_FAMILIES } from '../../helpers/claims/families.js';
import {
  checkRegistry,
  headerClaims,
  isSentence,
  parseClaimsTable,
  scanCaseFile,
  scanHarness,
  scanRepository,
  type Registry,
  type RepositoryScan,
} from '../../helpers/claims/registry-check.js';
import { environment } from '../../helpers/harness/environment.js';
import { buildClaimsReport, summaryLine } from '../../helpers/report/claims-report.js';
import { renderJunit } from '../../helpers/report/render.js';
import { healthyEnvironment, healthyObservations, judge } from '../../helpers/claims/rule-cases.js';

/** What each rule read on the healthy run: lets a header failure tell a lost declaration from a wrong header. */
const bodyReads = new Map(
  CLAIMS.filter((c) => c.decide).map((c) => [c.id, evaluate(c, new ObservationIndex(healthyObservations(), healthyEnvironment())).read] as const),
);
const REGISTRY: Registry = { families: FAMILIES, claims: CLAIMS, bodyReads };
const SCAN = scanRepository(PROJECT_ROOT, CLAIM_FAMILIES);
/** What the tree fails today: empty when it agrees; the drift tests below look only at what their drift adds to it. */
const BASELINE = checkRegistry(REGISTRY, SCAN);

test('the registry agrees with the claim case files, the family layout and CLAIMS.md (the tree as it is)', () => {
  expect(BASELINE).toEqual([]);
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

/**
 * The failures a drift adds to the tree's own (BASELINE): each drift test
 * asserts exactly what its drift adds, so a real drift in the tree fails the
 * test above and only the drift tests that concern the same thing.
 */
const drift = (registry: Registry, scan: RepositoryScan): string[] => checkRegistry(registry, scan).filter((f) => !BASELINE.includes(f));

/** The registry with one claim changed (or removed, when `patch` returns undefined). */
function withClaim(id: string, patch: (c: Claim) => Claim | undefined): Registry {
  const change = (cs: readonly Claim[]) => cs.flatMap((c) => (c.id === id ? (patch(c) ?? []) : [c]));
  return { ...REGISTRY, families: REGISTRY.families.map((f) => ({ ...f, claims: change(f.claims) })), claims: change(REGISTRY.claims) };
}

/** The registry with one family's evidence-only declarations replaced. */
const withEvidenceOnly = (name: string, evidenceOnly: RegistryFamily['evidenceOnly']): Registry => ({
  ...REGISTRY,
  families: REGISTRY.families.map((f) => (f.name === name ? { ...f, evidenceOnly } : f)),
});

type FamilyScan = RepositoryScan['families'][number];

/** The scan with one family's scan changed. */
function withFamilyScan(name: string, patch: (f: FamilyScan) => FamilyScan): RepositoryScan {
  return { ...SCAN, families: SCAN.families.map((f) => (f.name === name ? patch(structuredClone(f)) : f)) };
}

/** The scan with one case file's scan changed. */
const withCaseFile = (name: string, patch: (c: NonNullable<FamilyScan['caseFile']>) => void) =>
  withFamilyScan(name, (f) => {
    patch(f.caseFile!);
    return f;
  });

const caseFileOf = (name: string) => SCAN.families.find((f) => f.name === name)!.caseFile!;
/** The IDs a case file's "Claims:" line must hold: the claims that declare a kind it records (what a "the line must read" hint names). */
const headerOf = (name: string) =>
  CLAIMS.filter((c) => readsOf(c).some((k) => caseFileOf(name).recorded.includes(k)))
    .map((c) => c.id)
    .join(' ');

describe('drift fails the check, with a message that says what to do', () => {
  test('a kind a rule needs that no case file records any more', () => {
    const scan = withCaseFile('ids', (c) => {
      c.recorded = c.recorded.filter((k) => k !== 'singleThreadProcess');
    });
    expect(drift(REGISTRY, scan)).toContain(
      "Claim A3 needs the kind singleThreadProcess, but no claim case file records it (no observe('singleThreadProcess', ...) in cases/claims/*.test.ts): record it, or stop reading it.",
    );
  });

  test('a claim ID removed from a case file header', () => {
    const scan = withCaseFile('ids', (c) => {
      c.header = (c.header as string[]).filter((id) => id !== 'A14');
    });
    expect(drift(REGISTRY, scan)).toEqual([
      "cases/claims/ids.test.ts: its header's Claims: line does not match what the file records; " +
        `it lacks A14 (the file records threadGroupIds, which A14 reads); the line must read " * Claims: ${headerOf('ids')}".`,
    ]);
  });

  test('a header that lists a claim reading nothing the file records, or no claim at all', () => {
    const scan = withCaseFile('ps', (c) => {
      c.header = ['C4', 'A3', 'Z9'];
    });
    expect(drift(REGISTRY, scan)).toEqual([
      "cases/claims/ps.test.ts: its header's Claims: line does not match what the file records; " +
        `it lists A3, whose rule reads nothing the file records; it lists Z9, which is no claim of the registry; the line must read " * Claims: ${headerOf('ps')}".`,
    ]);
  });

  test('a kind dropped from a claim it is still read by: the fix is the declaration, not the header', () => {
    const noNeeds = withClaim('C4', (c) => ({ ...c, needs: [] }));
    const orphan =
      "The kind psView is recorded by cases/claims/ps.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), " +
      'or declare it evidence-only, with the reason, in helpers/claims/ps.ts.';
    const header = "cases/claims/ps.test.ts: its header's Claims: line does not match what the file records; it lists C4, ";
    expect(drift(noNeeds, SCAN)).toEqual([
      orphan,
      `${header}whose rule reads psView (recorded here) without declaring it: declare it in C4's needs or uses (helpers/claims/ps.ts).`,
    ]);
    // Without the healthy run's reads, the kind the file records and no rule declares says the same.
    const { bodyReads: _, ...blind } = noNeeds;
    expect(drift(blind, SCAN)).toEqual([
      orphan,
      `${header}whose rule declares nothing the file records, while the file records psView, which no rule declares: ` +
        'if C4 reads it, declare it in its needs or uses (helpers/claims/ps.ts).',
    ]);
    // A kind other claims still read: only the rule's own reads tell.
    const a3 = withClaim('A3', (c) => ({ ...c, needs: c.needs.filter((k) => k !== 'singleThreadProcess') }));
    expect(drift(a3, SCAN)).toEqual([
      "cases/claims/ids.test.ts: its header's Claims: line does not match what the file records; it lists A3, " +
        "whose rule reads singleThreadProcess (recorded here) without declaring it: declare it in A3's needs or uses (helpers/claims/ids.ts).",
    ]);
  });

  test('a recorded kind no rule reads (an orphan)', () => {
    const scan = withCaseFile('ps', (c) => {
      c.recorded.push('psColumns');
    });
    expect(drift(REGISTRY, scan)).toContain(
      "The kind psColumns is recorded by cases/claims/ps.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/ps.ts.",
    );
  });

  test('an orphan of today, once its evidence-only declaration is gone', () => {
    const declared = Object.keys(REGISTRY.families.find((f) => f.name === 'clone')!.evidenceOnly);
    expect(declared.length, 'the clone family declares evidence-only kinds').toBeGreaterThan(0);
    expect(drift(withEvidenceOnly('clone', {}), SCAN)).toEqual(
      declared.map(
        (k) =>
          `The kind ${k} is recorded by cases/claims/clone.test.ts but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/clone.ts.`,
      ),
    );
  });

  test('an evidence-only declaration that is stale, contradicted, or without a reason', () => {
    const registry = withEvidenceOnly('ps', { psView: 'Kept for the report.', cloneIdsWritten: 'It is kept as evidence beside the verdicts.' });
    expect(drift(registry, SCAN)).toEqual([
      'The kind psView is declared evidence-only in helpers/claims/ps.ts, but C4 reads it: remove the declaration.',
      'The reason the kind psView is evidence-only (helpers/claims/ps.ts) is not a sentence ("Kept for the report."): begin with a capital letter, end with a full stop, and say why in at least five words.',
      'helpers/claims/ps.ts declares the kind cloneIdsWritten evidence-only, but cases/claims/ps.test.ts does not record it: remove the declaration.',
    ]);
    // Declared by two families: each module named as it is.
    const twice = {
      ...registry,
      families: registry.families.map((f) => (f.name === 'ids' ? { ...f, evidenceOnly: { psView: 'It is kept as evidence beside the verdicts.' } } : f)),
    };
    expect(drift(twice, SCAN)).toContain(
      'The kind psView is declared evidence-only in helpers/claims/ids.ts, helpers/claims/ps.ts, but C4 reads it: remove the declaration.',
    );
  });

  test('a claim without a rule', () => {
    const registry = withClaim('A3', ({ decide: _, ...c }) => c);
    expect(drift(registry, SCAN)).toEqual([
      'Claim A3 (helpers/claims/ids.ts) has no rule: give it decide() and its verdicts, or notTestable with the reason no observation on a Linux host can bear on it.',
    ]);
  });

  test('a rule without declared verdicts, or with one a rule cannot return', () => {
    expect(
      drift(
        withClaim('C4', ({ verdicts: _, ...c }) => c),
        SCAN,
      ),
    ).toEqual(['Claim C4 (helpers/claims/ps.ts) does not declare the verdicts its rule can return (verdicts: [...]), which its rule tests must each reach.']);
    expect(
      drift(
        withClaim('C4', (c) => ({ ...c, verdicts: ['confirmed', 'not-testable'] })),
        SCAN,
      ),
    ).toEqual([
      'Claim C4 (helpers/claims/ps.ts) declares the verdict "not-testable", which a rule cannot return (a rule returns one of confirmed, refuted, nuanced, inconclusive; not-testable is declared with notTestable).',
    ]);
  });

  test('a not-testable claim with a rule, kinds, or no reason', () => {
    const b5 = (patch: Partial<Claim>) =>
      drift(
        withClaim('B5', (c) => ({ ...c, ...patch })),
        SCAN,
      );
    expect(b5({ decide: () => ({ verdict: 'confirmed', explanation: 'x', summary: 'x.' }) })).toEqual([
      'Claim B5 (helpers/claims/thread-group.ts) has a rule and is declared not-testable: keep one.',
    ]);
    expect(b5({ needs: ['psView'] })).toContain(
      'Claim B5 (helpers/claims/thread-group.ts) is not-testable but declares kinds it reads (psView): a claim no observation bears on reads none.',
    );
    expect(b5({ notTestable: 'other OSes' })).toEqual([
      'Claim B5 (helpers/claims/thread-group.ts)\'s reason for being not-testable is not a sentence ("other OSes"): begin with a capital letter, end with a full stop, and say why in at least five words.',
    ]);
  });

  test('a claim defined in two families', () => {
    const c4 = CLAIMS.find((c) => c.id === 'C4')!;
    const registry = { ...REGISTRY, families: REGISTRY.families.map((f) => (f.name === 'ids' ? { ...f, claims: [...f.claims, c4] } : f)) };
    expect(drift(registry, SCAN)).toContain('Claim C4 is defined twice, in helpers/claims/ids.ts and helpers/claims/ps.ts: keep one.');
  });

  test("a claim without rule tests in its family's rules file", () => {
    const scan = withFamilyScan('ps', (f) => ({ ...f, ruleTests: [] }));
    expect(drift(REGISTRY, scan)).toEqual(["Claim C4 (helpers/claims/ps.ts) has no rule tests in cases/rules/ps.rules.test.ts (ruleCases('C4', ...))."]);
    const moved = { ...scan, families: scan.families.map((f) => (f.name === 'ids' ? { ...f, ruleTests: [...f.ruleTests!, 'C4'] } : f)) };
    expect(drift(REGISTRY, moved)).toEqual([
      "Claim C4 (helpers/claims/ps.ts) has no rule tests in cases/rules/ps.rules.test.ts (ruleCases('C4', ...)); they are in cases/rules/ids.rules.test.ts: move them to the file of its family.",
    ]);
  });

  test('a family part missing, or a probe stand-in that is not true', () => {
    const scan = withFamilyScan('signals', (f) => ({ ...f, probe: false, ruleModule: false }));
    expect(drift(REGISTRY, scan)).toEqual([
      'Family signals: helpers/claims/signals.ts is missing; every family keeps its kinds and rules in a module of its name.',
      'Family signals: native-helpers/signals.c is missing; add the probe, or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.',
    ]);
    const { caseFile: _, ruleTests: __, ...bare } = SCAN.families.find((f) => f.name === 'ps')!;
    expect(
      drift(
        REGISTRY,
        withFamilyScan('ps', () => bare),
      ),
    ).toEqual([
      'Family ps: cases/claims/ps.test.ts is missing; every family records its observations in a case file of its name.',
      'Family ps: cases/rules/ps.rules.test.ts is missing; every family tests its rules in a file of its name.',
      "Claim C4 needs the kind psView, but no claim case file records it (no observe('psView', ...) in cases/claims/*.test.ts): record it, or stop reading it.",
    ]);
    expect(
      drift(
        REGISTRY,
        withCaseFile('ps', (c) => (c.probes = ['signals'])),
      ),
    ).toEqual([
      'Family ps declares it runs the ids probe instead of its own, but cases/claims/ps.test.ts never runs it (it runs signals): correct the declaration in helpers/claims/families.ts.',
    ]);
    expect(
      drift(
        REGISTRY,
        withCaseFile('kernel-threads', (c) => {
          c.probes = ['ids', 'proc'];
          c.via = { proc: 'lookupFromC (helpers/harness/lookup.ts)' };
        }),
      ),
    ).toEqual([
      'Family kernel-threads declares it runs no probe, but cases/claims/kernel-threads.test.ts runs ids, proc (through lookupFromC (helpers/harness/lookup.ts)): correct the declaration in helpers/claims/families.ts.',
    ]);
    expect(
      drift(
        REGISTRY,
        withFamilyScan('ps', (f) => ({ ...f, probe: true })),
      ),
    ).toEqual([
      'Family ps declares it has no probe of its own, but native-helpers/ps.c exists: remove the declaration from helpers/claims/families.ts, or the file.',
    ]);
  });

  test('a case file that never runs its own probe, neither itself nor through the harness', () => {
    let others = '';
    const scan = withCaseFile('proc', (c) => {
      c.probes = c.probes.filter((p) => p !== 'proc');
      delete c.via.proc;
      others = c.probes.join(', ') || 'no probe';
    });
    expect(drift(REGISTRY, scan)).toEqual([
      `Family proc: cases/claims/proc.test.ts never runs its own probe, native-helpers/proc.c (it runs ${others}): run it from the experiments ` +
        "(startProbe('proc', ...), runProbe, new Probe, or a function of helpers/harness/ that does), " +
        'or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.',
    ]);
  });

  test('CLAIMS.md out of step with the registry', () => {
    const md = readFileSync(join(PROJECT_ROOT, 'CLAIMS.md'), 'utf8');
    const scanOf = (text: string): RepositoryScan => ({ ...SCAN, claimsTable: parseClaimsTable(text) });
    const a3 = md.split('\n').findIndex((l) => l.startsWith('| A3 |')) + 1;
    expect(drift(REGISTRY, scanOf(md.replace(/^\| A3 \|.*\n/m, '')))).toEqual(["Claim A3 (helpers/claims/ids.ts) is not in CLAIMS.md's table: add its row."]);
    expect(drift(REGISTRY, scanOf(md.replace('| A3 | answer 1 |', '| A3 | answer 2 |')))).toEqual([
      `CLAIMS.md line ${a3} (A3) says where is "answer 2", the registry (helpers/claims/ids.ts) "answer 1": CLAIMS.md is the source; copy it into the claim's source.`,
    ]);
    expect(drift(REGISTRY, scanOf(md.replace('no other process shares this TGID', 'no other process has this TGID')))).toEqual([
      `CLAIMS.md line ${a3} (A3) has the excerpt "a "normal" process has PID=TGID and no other process has this TGID", the registry (helpers/claims/ids.ts) "a "normal" process has PID=TGID and no other process shares this TGID": CLAIMS.md is the source; copy it into the claim's excerpt.`,
    ]);
    expect(drift(REGISTRY, scanOf(md.replace(/(\| A3 \|.*\| )`ids` \|/, '$1`proc` |')))).toEqual([
      `CLAIMS.md line ${a3} (A3) names the family "proc", but the claim is defined in helpers/claims/ids.ts: correct CLAIMS.md's family column.`,
    ]);
    const statement = withClaim('A3', (c) => ({ ...c, statement: 'A single-threaded process has PID = TGID.' }));
    expect(drift(statement, SCAN)).toEqual([
      `CLAIMS.md line ${a3} (A3) has the statement "${CLAIMS.find((c) => c.id === 'A3')!.statement}", the registry (helpers/claims/ids.ts) "A single-threaded process has PID = TGID.": the registry is the source; copy its statement into CLAIMS.md.`,
    ]);
    const lines = md.split('\n');
    [lines[a3 - 1], lines[a3]] = [lines[a3]!, lines[a3 - 1]!];
    const swapped = drift(REGISTRY, scanOf(lines.join('\n')));
    expect(swapped[0]).toMatch(
      /^CLAIMS\.md lists the claims in the order T1 A1 A2 A4 A3 A5 .*, the registry in the order T1 A1 A2 A3 A4 A5 .*: the IDs are stable and ordered as in CLAIMS\.md\.$/,
    );
    expect(drift(REGISTRY, scanOf(md.replace('| A3 |', '| A16 |')))).toContain(
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
    expect(drift(expecting({ 'no-procps': { verdict: 'inconclusive', because: 'Without procps there is no ps to run at all.' } }), SCAN)).toEqual([
      `Claim C4's expectedIn.no-procps names an environment npm run check:environments does not make (it makes ${CHECKED_ENVIRONMENTS.join(', ')}; helpers/claims/checked-environments.ts).`,
    ]);
    expect(drift(expecting({ [BASELINE_ENVIRONMENT]: { because: 'The baseline is where every verdict is compared.' } }), SCAN)).toEqual([
      `Claim C4's expectedIn.${BASELINE_ENVIRONMENT}: ${BASELINE_ENVIRONMENT} is the baseline the others are compared with, and cannot differ from itself.`,
    ]);
    expect(drift(expecting({ hidepid: { verdict: 'nuanced', because: 'hidden' } }), SCAN)).toEqual([
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
      via: {},
      header: ['A3', 'A4'],
    });
    expect(
      drift(
        REGISTRY,
        withCaseFile('ps', (c) => (c.unreadable = ['line 11'])),
      ),
    ).toEqual([
      "cases/claims/ps.test.ts calls observe() with a kind that is not a string literal (line 11): write the kind as observe('kind', ...), so that the registry check can see what it records.",
    ]);
  });

  /** A harness of three modules: probe.ts (the runner itself), a.ts and b.ts (functions that run probes for their callers). */
  const HARNESS = [
    {
      file: 'helpers/harness/probe.ts',
      text: [
        'export class Probe {',
        '  constructor(readonly name: string) {}',
        '}',
        'export async function runProbe(name: string) {',
        '  return new Probe(name);',
        '}',
      ],
    },
    {
      file: 'helpers/harness/a.ts',
      text: [
        "import { runProbe, startProbe } from './probe.js';",
        '',
        '/** A lookup made from C. */',
        'export async function lookup(paths: string[]): Promise<string[]> {',
        "  const r = await runProbe('proc', paths);",
        '  return r.records;',
        '}',
        '',
        'async function inner(): Promise<void> {',
        "  await runProbe('clone', ['--try']);",
        '}',
        '',
        'export async function outer(): Promise<void> {',
        '  await inner();',
        '}',
        '',
        "export const arrow = async () => startProbe('ids');",
        '',
        "// export function commented() { runProbe('namespaces'); }",
        'export function quiet(): number {',
        '  return 1;',
        '}',
      ],
    },
    {
      file: 'helpers/harness/b.ts',
      text: ["import { outer as o } from './a.js';", '', 'export async function viaOther(): Promise<void> {', '  await o();', '}'],
    },
  ].map((m) => ({ file: m.file, text: m.text.join('\n') }));

  test('finds the harness functions that run a probe for their caller, through other functions and modules', () => {
    expect(scanHarness(HARNESS)).toEqual([
      { name: 'lookup', file: 'helpers/harness/a.ts', probes: ['proc'] },
      { name: 'outer', file: 'helpers/harness/a.ts', probes: ['clone'] },
      { name: 'arrow', file: 'helpers/harness/a.ts', probes: ['ids'] },
      { name: 'viaOther', file: 'helpers/harness/b.ts', probes: ['clone'] },
    ]);
  });

  test("counts a case file's calls of those functions as runs of their probes", () => {
    const runners = scanHarness(HARNESS);
    const caseFile = (...lines: string[]) =>
      scanCaseFile(['/**', ' * Claims: A11', ' */', ...lines].join('\n'), { runners, file: 'cases/claims/proc.test.ts' });
    expect(
      caseFile("import { lookup, quiet } from '../../helpers/harness/a.js';", "await lookup(['/proc/1']);", 'quiet();', "await startProbe('ids');"),
    ).toMatchObject({ probes: ['ids', 'proc'], via: { proc: 'lookup (helpers/harness/a.ts)' } });
    // Imported under another name, and called: counted; the harness function itself runs no probe here.
    expect(caseFile("import { viaOther as v } from '../../helpers/harness/b.js';", 'await v();')).toMatchObject({
      probes: ['clone'],
      via: { clone: 'viaOther (helpers/harness/b.ts)' },
    });
    // Imported and never called, called in a comment, or a function of the same name from elsewhere: not counted.
    for (const lines of [
      ["import { lookup } from '../../helpers/harness/a.js';", '// await lookup([]);'],
      ["import { lookup } from './local.js';", 'await lookup([]);'],
      ['const lookup = async (p: string[]) => p;', 'await lookup([]);'],
    ]) {
      expect(caseFile(...lines), lines.join('\n')).toMatchObject({ probes: [], via: {} });
    }
  });

  test('a header without its Claims: line, with two, or with something that is not an ID', () => {
    expect(headerClaims('import x;\n')).toEqual({ problem: 'it has no doc comment at the top of the file' });
    expect(headerClaims('/**\n * Prose only.\n */\n')).toEqual({ problem: 'its header comment has no "Claims:" line' });
    expect(headerClaims('/**\n * Claims: A3\n * Claims: A4\n */\n')).toEqual({ problem: 'its header comment has 2 "Claims:" lines, where it needs one' });
    expect(headerClaims('/**\n * Claims: A3, A4 and C1\n */\n')).toEqual({
      problem: 'its "Claims:" line holds "and", which is not a claim ID (space-separated IDs such as A3, only)',
    });
    const scan = withCaseFile('ps', (c) => (c.header = { problem: 'its header comment has no "Claims:" line' }));
    expect(drift(REGISTRY, scan)).toEqual([
      `cases/claims/ps.test.ts: its header comment has no "Claims:" line; it records ${caseFileOf('ps').recorded.join(', ')}, so the line must read " * Claims: ${headerOf('ps')}".`,
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
    expect(e.summary).toMatch(/^Not judged: the rule for \w+ threw TypeError, a defect of clonelab/);
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
      claim(() => ({ verdict: 'confirmed', explanation: `${nonEmpty([], 'thread group').length} groups`, summary: 'x.' })),
      index,
    );
    expect(e).toMatchObject({
      verdict: 'inconclusive',
      explanation: 'No thread group was observed completely in this run.',
      summary: 'Not judged: no thread group was observed completely.',
    });
    expect(e.broken).toBeUndefined();
  });
});
