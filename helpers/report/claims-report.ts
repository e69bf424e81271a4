/**
 * reports/claims.json: the contract other tools read (../shared/DESIGN.md).
 * Bump SCHEMA_VERSION on any change a reader could trip over.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../build.js';
import { CLAIMS, evaluate, ObservationIndex, readsOf, VERDICTS, type Verdict } from '../claims.js';
import type { Environment } from '../environment.js';
import type { RecordedObservation } from '../observations.js';

export const SCHEMA_VERSION = 1;

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
  statement: string;
  verdict: Verdict;
  explanation: string;
  /** Observation kinds the rule reads. */
  needs: string[];
  /** The observations this claim's rule read: ids into the report's `observations`. */
  observations: { id: string; kind: string; variant: string; test: string; testState: string }[];
}

/** An observation with its id (kind/variant), result and evidence; stored once per report. */
export type ReportObservation = RecordedObservation & { id: string };

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

export function defaultReportDir(): string {
  return process.env.CLONELAB_REPORT_DIR ?? join(PROJECT_ROOT, 'reports');
}

export function buildClaimsReport(input: {
  observations: RecordedObservation[];
  tests: TestOutcome[];
  environment: Environment;
  reason: string;
  unhandledErrors: string[];
}): ClaimsReport {
  const index = new ObservationIndex(input.observations);
  const ids = new Map<RecordedObservation, string>();
  const used = new Set<string>();
  for (const o of input.observations) {
    let id = `${o.kind}/${o.variant}`;
    for (let n = 2; used.has(id); n++) id = `${o.kind}/${o.variant}#${n}`;
    used.add(id);
    ids.set(o, id);
  }
  const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const claims: ClaimResult[] = CLAIMS.map((c) => {
    const d = evaluate(c, index);
    return {
      id: c.id,
      answer: c.id[0]!,
      source: c.source,
      statement: c.statement,
      verdict: d.verdict,
      explanation: d.explanation,
      needs: c.needs,
      observations: readsOf(c).flatMap((k) =>
        index.all(k).map((o) => ({ id: ids.get(o)!, kind: o.kind, variant: o.variant, test: o.test, testState: o.testState })),
      ),
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

/** Write a file so that readers see the old or the new content, never half of one. */
export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function summaryLine(r: ClaimsReport): string {
  const verdicts = VERDICTS.map((v) => `${r.summary[v]} ${v}`).join(', ');
  return `claims: ${verdicts}; tests: ${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped`;
}
