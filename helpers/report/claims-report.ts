/**
 * reports/claims.json: the contract other tools read (README.md, "Reports").
 * Bump SCHEMA_VERSION on any change a reader could trip over.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../harness/paths.js';
import { CLAIMS, evaluate, ObservationIndex, VERDICTS, type Verdict } from '../claims/index.js';
import { CLAIM_CASE_FILES } from '../claims/families.js';
import type { Environment } from '../harness/environment.js';
import type { ObservationKind, RecordedObservation } from '../observations.js';
import { problemsText, schemaPath, schemaProblems } from './schema.js';

/** 2: observations carry `complete` (and `unobserved` when not); claims list `setAside` and `broken`. */
export const SCHEMA_VERSION = 2;

export interface TestOutcome {
  name: string;
  file: string;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  /** Why it was skipped (ctx.skip(reason)); a skip never counts as a pass. */
  skipReason?: string;
  errors?: string[];
}

export interface ClaimResult {
  id: string;
  answer: string;
  source: string;
  /** The sentence of the Q&A the claim comes from, abridged (CLAIMS.md's seed excerpt). */
  excerpt: string;
  statement: string;
  verdict: Verdict;
  explanation: string;
  /**
   * Why the verdict is what it is, in one line (Decision.summary in
   * helpers/claims/rule.ts): for nuanced the nuance, for refuted the
   * contradicting observation, for inconclusive what was missing. The "why"
   * of claims.md, claims.html, the step summary and JUnit. Added within
   * schema 2: absent from reports written before it.
   */
  summary: string;
  /** Observation kinds the rule reads. */
  needs: string[];
  /** The observations this claim's rule read: ids into the report's `observations`. */
  observations: ObservationRef[];
  /** Observations of the kinds it reads that it did not get: incomplete, or from a skipped test. */
  setAside: (ObservationRef & { reason: string })[];
  /** The rule threw: a defect of clonelab (the run fails; the verdict says inconclusive). */
  broken?: string;
  /** Set when not every claim-bearing case file ran: the verdict rests on part of the observations. */
  partialRun?: string;
}

/** One case file of the run and how many tests it had (run, failed or skipped). */
export interface CaseFileRun {
  /** Relative to the project root, as vitest takes it. */
  file: string;
  tests: number;
  /** One of CLAIM_CASE_FILES (helpers/claims/families.ts): its observations are what the rules read. */
  claimBearing: boolean;
  /** Errors of the file outside any test (it failed to load, a file-level hook threw). */
  errors?: string[];
}

/** Which case files this run was made of, and whether they are every claim-bearing one. */
export interface CasesRun {
  files: CaseFileRun[];
  /** The claim-bearing case files that did not run (absent, or loaded no test); empty when the set is complete. */
  claimFilesNotRun: string[];
  /** Every claim-bearing case file ran: the verdicts rest on the whole set of experiments. */
  complete: boolean;
}

export interface ObservationRef {
  id: string;
  kind: string;
  variant: string;
  test: string;
  testState: string;
}

/** An observation with its id (kind/variant), result and evidence; stored once per report. */
export type ReportObservation<K extends ObservationKind = ObservationKind> = RecordedObservation<K> & { id: string };

export interface ClaimsReport {
  schemaVersion: typeof SCHEMA_VERSION;
  generatedAt: string;
  tool: { name: 'clonelab'; version: string };
  environment: Environment;
  summary: Record<Verdict, number>;
  claims: ClaimResult[];
  /** Every observation of the run, once (several claims may read the same one). */
  observations: ReportObservation[];
  tests: { passed: number; failed: number; skipped: number; total: number; list: TestOutcome[] };
  /** Which case files ran (added within schema 2: absent from reports written before it). */
  cases: CasesRun;
  /** Why the run ended, as vitest says ('passed', 'failed', 'interrupted'), and errors outside any test. */
  run: { reason: string; unhandledErrors: string[] };
}

export function buildClaimsReport(input: {
  observations: RecordedObservation[];
  tests: TestOutcome[];
  environment: Environment;
  reason: string;
  unhandledErrors: string[];
  /** The case files that ran, with their test counts; by default, those of `tests`. */
  caseFiles?: { file: string; tests: number; errors?: string[] }[];
}): ClaimsReport {
  const cases = casesRun(input.caseFiles ?? filesOf(input.tests));
  const partialRun = cases.complete ? undefined : partialRunNote(cases);
  const index = new ObservationIndex(input.observations, input.environment);
  const ids = new Map<RecordedObservation, string>();
  const used = new Set<string>();
  for (const o of input.observations) {
    let id = `${o.kind}/${o.variant}`;
    for (let n = 2; used.has(id); n++) id = `${o.kind}/${o.variant}#${n}`;
    used.add(id);
    ids.set(o, id);
  }
  const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const ref = (o: RecordedObservation): ObservationRef => ({ id: ids.get(o)!, kind: o.kind, variant: o.variant, test: o.test, testState: o.testState });
  const claims: ClaimResult[] = CLAIMS.map((c) => {
    const d = evaluate(c, index);
    return {
      id: c.id,
      answer: c.id[0]!,
      source: c.source,
      excerpt: c.excerpt,
      statement: c.statement,
      verdict: d.verdict,
      explanation: d.explanation,
      summary: d.summary,
      needs: c.needs,
      observations: d.used.map(ref),
      setAside: d.setAside.map((x) => ({ ...ref(x.observation), reason: x.reason })),
      ...(d.broken ? { broken: d.broken } : {}),
      ...(partialRun ? { partialRun } : {}),
    };
  });
  const summary = Object.fromEntries(VERDICTS.map((v) => [v, claims.filter((c) => c.verdict === v).length])) as Record<Verdict, number>;
  const count = (s: TestOutcome['state']) => input.tests.filter((t) => t.state === s).length;
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    tool: { name: 'clonelab', version },
    environment: input.environment,
    summary,
    claims,
    observations: input.observations.map((o) => ({ id: ids.get(o)!, ...o })),
    tests: { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: input.tests.length, list: input.tests },
    cases,
    run: { reason: input.reason, unhandledErrors: input.unhandledErrors },
  };
}

/** Case files and their test counts, from the tests' own `file`. */
function filesOf(tests: readonly TestOutcome[]): { file: string; tests: number }[] {
  const n = new Map<string, number>();
  for (const t of tests) n.set(t.file, (n.get(t.file) ?? 0) + 1);
  return [...n].map(([file, count]) => ({ file, tests: count }));
}

export function casesRun(files: readonly { file: string; tests: number; errors?: string[] }[]): CasesRun {
  // A file that failed to load has no test: it observed nothing, as if it had not run.
  const ran = new Set(files.filter((f) => f.tests > 0).map((f) => f.file));
  const claimFilesNotRun = CLAIM_CASE_FILES.filter((f) => !ran.has(f));
  return {
    files: files.map((f) => ({
      file: f.file,
      tests: f.tests,
      claimBearing: CLAIM_CASE_FILES.includes(f.file),
      ...(f.errors?.length ? { errors: f.errors } : {}),
    })),
    claimFilesNotRun,
    complete: claimFilesNotRun.length === 0,
  };
}

/** What a claim judged from part of the claim-bearing cases says about it. */
function partialRunNote(c: CasesRun): string {
  return (
    `Judged from a partial run: ${c.claimFilesNotRun.length} of the ${CLAIM_CASE_FILES.length} claim-bearing case files did not run ` +
    `(${c.claimFilesNotRun.join(', ')}), so what they observe is not in this verdict.`
  );
}

/**
 * The report's one line on which cases ran, e.g. "Cases: all 8 claim-bearing
 * case files ran (tests each: cases/claims/clone.test.ts 19, ...), and 17
 * other case files (516 tests)." A report written before `cases` existed
 * (matrix inputs may be older) gets a line that says it is not known.
 */
export function casesLine(r: Pick<ClaimsReport, 'cases'>): string {
  const c = r.cases as CasesRun | undefined;
  if (!c) return 'Cases: not recorded (a report written before clonelab listed the case files it ran).';
  const claim = c.files.filter((f) => f.claimBearing && !c.claimFilesNotRun.includes(f.file));
  const other = c.files.filter((f) => !f.claimBearing);
  const tests = (fs: CaseFileRun[]) => fs.reduce((n, f) => n + f.tests, 0);
  const each = claim.map((f) => `${f.file} ${f.tests}`).join(', ');
  const others = other.length ? `, and ${other.length} other case file${other.length === 1 ? '' : 's'} (${tests(other)} tests)` : '';
  if (c.complete) return `Cases: all ${claim.length} claim-bearing case files ran (tests each: ${each})${others}.`;
  return (
    `Cases: a partial run, ${claim.length} of ${CLAIM_CASE_FILES.length} claim-bearing case files ran` +
    `${claim.length ? ` (tests each: ${each})` : ''}${others}; not run: ${c.claimFilesNotRun.join(', ')}. Every verdict rests on this part only.`
  );
}

/** A report file that cannot be used: which file, and what is wrong with it. */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * Read and check a claims.json (or a directory holding one) against
 * schemas/claims.schema.json. Anything that is not a complete clonelab
 * report of this schema is refused with the reason: the file, the JSON
 * pointer of each mismatch and what was expected there.
 */
export function readClaimsReport(path: string): ClaimsReport {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'claims.json');
  } catch (e) {
    throw new ReportInputError(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReportInputError(file, code === 'ENOENT' && file !== path ? 'the directory holds no claims.json' : `cannot read it (${code ?? String(e)})`);
  }
  if (text.trim() === '') throw new ReportInputError(file, 'the file is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ReportInputError(file, `not valid JSON, truncated or damaged (${(e as Error).message})`);
  }
  const r = value as Partial<ClaimsReport> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r) || r.tool?.name !== 'clonelab') {
    throw new ReportInputError(file, 'not a clonelab claims report (no "tool": {"name": "clonelab"})');
  }
  if (r.schemaVersion !== SCHEMA_VERSION) {
    throw new ReportInputError(file, `schema version ${JSON.stringify(r.schemaVersion)} is not the one this clonelab reads (${SCHEMA_VERSION})`);
  }
  // The published schema says the rest: each mismatch with its JSON pointer and what was expected there.
  const problems = schemaProblems('claims', value);
  if (problems.length) throw new ReportInputError(file, `does not match ${schemaPath('claims')}: ${problemsText(problems)}`);
  const report = value as ClaimsReport;
  // What a schema cannot say: the claim IDs are this clonelab's, and each claim's observations are in the report.
  const known = new Set(CLAIMS.map((c) => c.id));
  const unknown = report.claims.map((c) => c.id).filter((id) => !known.has(id));
  if (unknown.length) throw new ReportInputError(file, `unknown claim IDs: ${unknown.join(', ')}`);
  const ids = new Set(report.observations.map((o) => o.id));
  const dangling = report.claims.flatMap((c) => c.observations.filter((o) => !ids.has(o.id)).map((o) => `${c.id} → ${o.id}`));
  if (dangling.length) throw new ReportInputError(file, `claims refer to observations the report does not hold: ${dangling.join(', ')}`);
  return report;
}

export function summaryLine(r: ClaimsReport): string {
  const verdicts = VERDICTS.map((v) => `${r.summary[v]} ${v}`).join(', ');
  const broken = r.claims.filter((c) => c.broken).map((c) => c.id);
  const partial =
    r.cases && !r.cases.complete
      ? `; partial run: ${CLAIM_CASE_FILES.length - r.cases.claimFilesNotRun.length} of ${CLAIM_CASE_FILES.length} claim-bearing case files`
      : '';
  return `claims: ${verdicts}; tests: ${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped${partial}${broken.length ? `; BROKEN rules: ${broken.join(', ')}` : ''}`;
}

/** An observation's result, or what could not be observed: for display. */
export const shownResult = (o: RecordedObservation): unknown => (o.complete ? o.result : { unobserved: o.unobserved });
