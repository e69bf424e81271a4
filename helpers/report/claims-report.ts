/**
 * reports/claims.json: the contract other tools read (README.md, "Reports").
 * Bump SCHEMA_VERSION on any change a reader could trip over.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../harness/paths.js';
import { CLAIMS, evaluate, ObservationIndex, VERDICTS, type Verdict } from '../claims/index.js';
import type { Environment } from '../harness/environment.js';
import type { ObservationKind, RecordedObservation } from '../observations.js';

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
  /** Observation kinds the rule reads. */
  needs: string[];
  /** The observations this claim's rule read: ids into the report's `observations`. */
  observations: ObservationRef[];
  /** Observations of the kinds it reads that it did not get: incomplete, or from a skipped test. */
  setAside: (ObservationRef & { reason: string })[];
  /** The rule threw: a defect of clonelab (the run fails; the verdict says inconclusive). */
  broken?: string;
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
  /** Why the run ended, as vitest says ('passed', 'failed', 'interrupted'), and errors outside any test. */
  run: { reason: string; unhandledErrors: string[] };
}

export function buildClaimsReport(input: {
  observations: RecordedObservation[];
  tests: TestOutcome[];
  environment: Environment;
  reason: string;
  unhandledErrors: string[];
}): ClaimsReport {
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
      needs: c.needs,
      observations: d.used.map(ref),
      setAside: d.setAside.map((x) => ({ ...ref(x.observation), reason: x.reason })),
      ...(d.broken ? { broken: d.broken } : {}),
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
    run: { reason: input.reason, unhandledErrors: input.unhandledErrors },
  };
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
 * Read and check a claims.json (or a directory holding one). Anything that
 * is not a complete clonelab report of this schema is refused with the reason.
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
  if (!Array.isArray(r.claims) || typeof r.environment !== 'object' || !r.tests || !Array.isArray(r.tests.list)) {
    throw new ReportInputError(file, 'incomplete report: "claims", "environment" or "tests" is missing');
  }
  const known = new Set(CLAIMS.map((c) => c.id));
  const unknown = r.claims.map((c) => c?.id).filter((id) => !known.has(id));
  if (unknown.length) throw new ReportInputError(file, `unknown claim IDs: ${unknown.join(', ')}`);
  const bad = r.claims.filter((c) => !(VERDICTS as readonly string[]).includes(c.verdict));
  if (bad.length) throw new ReportInputError(file, `claims with an unknown verdict: ${bad.map((c) => `${c.id}=${c.verdict}`).join(', ')}`);
  return r as ClaimsReport;
}

export function summaryLine(r: ClaimsReport): string {
  const verdicts = VERDICTS.map((v) => `${r.summary[v]} ${v}`).join(', ');
  const broken = r.claims.filter((c) => c.broken).map((c) => c.id);
  return `claims: ${verdicts}; tests: ${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped${broken.length ? `; BROKEN rules: ${broken.join(', ')}` : ''}`;
}

/** An observation's result, or what could not be observed: for display. */
export const shownResult = (o: RecordedObservation): unknown => (o.complete ? o.result : { unobserved: o.unobserved });
