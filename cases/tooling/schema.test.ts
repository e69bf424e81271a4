/**
 * The published schemas (schemas/claims.schema.json, schemas/matrix.schema.json):
 * they are valid draft 2020-12 schemas that say what every field means and
 * agree with the code's own constants; a report built from a real run's
 * observations matches them; a report that does not is refused where it is
 * read (the file, the JSON pointer, what was expected) and never written
 * (a defect of clonelab). And the page: every observation's evidence is in
 * claims.html once, as data, and nothing in it can end its script element.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VERDICTS } from '../../helpers/claims/index.js';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { healthyObservations } from '../../helpers/claims/rule-cases.js';
import { recordEnvironment } from '../../helpers/harness/environment.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import { buildClaimsReport, readClaimsReport, ReportInputError, SCHEMA_VERSION, shownResult, type ClaimsReport } from '../../helpers/report/claims-report.js';
import { buildMatrix, writeMatrix } from '../../helpers/report/matrix.js';
import { renderHtml } from '../../helpers/report/render.js';
import { loadSchema, ReportSchemaError, SCHEMA_FILES, schemaProblems, type SchemaName } from '../../helpers/report/schema.js';
import { writeReports } from '../../helpers/report/write.js';

const NAMES = Object.keys(SCHEMA_FILES) as SchemaName[];

let work: { path: string; cleanup: () => Promise<void> };
/** A report as the reporter builds it, from a real healthy run's observations (cases/rules/fixtures) and this host's environment. */
let report: ClaimsReport;

beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-schema-' });
  const observations: RecordedObservation[] = healthyObservations();
  // One incomplete observation too, as a failed probe leaves it: its reason, no result.
  const first = observations[0]!;
  observations.push({
    kind: first.kind,
    variant: `${first.variant} (failed)`,
    complete: false,
    unobserved: 'probe failed: clone: EPERM',
    evidence: {},
    test: first.test,
    testState: 'failed',
  });
  const tests = [...new Set(observations.map((o) => o.test))].map((name, i) => ({
    name,
    file: CLAIM_CASE_FILES[i % CLAIM_CASE_FILES.length]!,
    state: 'passed' as const,
  }));
  report = buildClaimsReport({ observations, tests, environment: await recordEnvironment(), reason: 'passed', unhandledErrors: [] });
});

afterAll(async () => {
  await work?.cleanup();
});

/** Every schema object under `properties`, `$defs` and the like, with its JSON pointer. */
function* subschemas(node: unknown, pointer = ''): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const [i, x] of node.entries()) yield* subschemas(x, `${pointer}/${i}`);
    return;
  }
  const o = node as Record<string, unknown>;
  yield [pointer, o];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'properties' || k === '$defs') {
      for (const [name, s] of Object.entries(v as Record<string, unknown>)) yield* subschemas(s, `${pointer}/${k}/${name}`);
    } else if (typeof v === 'object' && !['enum', 'const', 'required', 'if', 'then', 'else'].includes(k)) {
      // (if/then/else only constrain properties declared, and described, beside them.)
      yield* subschemas(v, `${pointer}/${k}`);
    }
  }
}

describe('the schema files', () => {
  test.for(NAMES)('schemas/%s.schema.json is a valid draft 2020-12 schema that Ajv compiles in strict mode', (name) => {
    const schema = loadSchema(name);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const ajv = new Ajv2020({ strict: true, strictRequired: false });
    if (name !== 'claims') ajv.addSchema(loadSchema('claims')); // the matrix refers to its environment
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  test.for(NAMES)('every property of schemas/%s.schema.json says what it means (a description)', (name) => {
    const undocumented: string[] = [];
    for (const [pointer, s] of subschemas(loadSchema(name))) {
      const named = /\/(properties|\$defs)\/[^/]+$/.test(pointer) || pointer === '';
      if (named && s !== null && typeof s.description !== 'string') undocumented.push(pointer || '/');
      if (typeof s.description === 'string' && s.description.trim().length < 3) undocumented.push(`${pointer} (empty description)`);
    }
    expect(undocumented, `add a "description" to each of these in ${SCHEMA_FILES[name]}`).toEqual([]);
  });

  test('the schemas carry the code’s schemaVersion, verdicts and environment fields', () => {
    const claims = loadSchema('claims') as {
      properties: Record<string, { const?: number; properties?: object }>;
      $defs: Record<string, { enum?: string[]; required?: string[] }>;
    };
    const matrix = loadSchema('matrix') as { properties: Record<string, { const?: number }> };
    expect(claims.properties.schemaVersion!.const).toBe(SCHEMA_VERSION);
    expect(matrix.properties.schemaVersion!.const).toBe(SCHEMA_VERSION);
    expect(claims.$defs.verdict!.enum).toEqual([...VERDICTS]);
    expect(Object.keys(claims.properties.summary!.properties!)).toEqual([...VERDICTS]);
    // A new environment fact is written into every report: the schema must name it and say what it means, and
    // require it unless it says it is absent in reports from before it was recorded (which stay readable).
    const env = claims.$defs.environment as { required: string[]; properties: Record<string, { description: string }> };
    const optional = Object.keys(env.properties).filter((k) => env.properties[k]!.description.includes('absent in reports from before'));
    expect([...env.required, ...optional].sort()).toEqual(Object.keys(report.environment).sort());
    expect(env.required.filter((k) => optional.includes(k))).toEqual([]);
  });
});

describe('reports that match', () => {
  test('a report built from a real run’s observations matches, and writeReports writes it', () => {
    expect(schemaProblems('claims', JSON.parse(JSON.stringify(report)))).toEqual([]);
    const dir = join(work.path, 'good');
    writeReports(report, dir);
    expect(readClaimsReport(dir).claims).toHaveLength(report.claims.length);
  });

  test('a matrix of it, with a column that has no report, matches and writeMatrix writes it', () => {
    const m = buildMatrix([
      { source: 'a', report },
      { source: 'b', label: 'a guest that hung', broken: 'no report: the guest did not finish within 600 s' },
    ]);
    expect(schemaProblems('matrix', JSON.parse(JSON.stringify(m)))).toEqual([]);
    const dir = join(work.path, 'matrix');
    writeMatrix(m, dir);
    expect(schemaProblems('matrix', JSON.parse(readFileSync(join(dir, 'matrix.json'), 'utf8')))).toEqual([]);
  });
});

describe('reports that do not match', () => {
  /** A change to a report, and what the message must say: the JSON pointer and what was expected there. */
  const MUTATIONS: { name: string; mutate: (r: ClaimsReport) => void; says: RegExp }[] = [
    {
      name: 'an unknown verdict',
      mutate: (r) => (r.claims[3]!.verdict = 'probably' as never),
      says: /\/claims\/3\/verdict: must be one of "confirmed", .*"not-testable" \(found "probably"\)/,
    },
    {
      name: 'a missing environment field',
      mutate: (r) => delete (r.environment as Partial<ClaimsReport['environment']>).kernelRelease,
      says: /\/environment: the property "kernelRelease" is missing/,
    },
    {
      name: 'a field the schema does not know',
      mutate: (r) => Object.assign(r.claims[0]!, { confidence: 0.9 }),
      says: /\/claims\/0: the property "confidence" is not in the schema/,
    },
    { name: 'a count of the wrong type', mutate: (r) => (r.tests.passed = '12' as never), says: /\/tests\/passed: must be integer \(found "12"\)/ },
    {
      name: 'a complete observation without its result',
      mutate: (r) => delete (r.observations[1] as { result?: unknown }).result,
      says: /\/observations\/1: the property "result" is missing/,
    },
    {
      name: 'an incomplete observation that still has a result',
      mutate: (r) => Object.assign(r.observations[2]!, { complete: false, unobserved: 'probe failed' }),
      says: /\/observations\/2\/result: must not be there/,
    },
    {
      name: 'a set-aside observation without its reason',
      mutate: (r) => r.claims[5]!.setAside.push({ ...r.claims[5]!.observations[0]!, reason: undefined as never }),
      says: /\/claims\/5\/setAside\/\d+: the property "reason" is missing/,
    },
    { name: 'a malformed timestamp', mutate: (r) => (r.generatedAt = 'yesterday'), says: /\/generatedAt: must match pattern/ },
  ];

  test.for(MUTATIONS)('reading one with $name is refused with the file, the JSON pointer and what was expected', ({ mutate, says }, { task }) => {
    const r = structuredClone(report);
    mutate(r);
    const file = join(work.path, `${task.id}.json`);
    writeFileSync(file, JSON.stringify(r));
    let err: unknown;
    try {
      readClaimsReport(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReportInputError);
    expect(String(err)).toContain(`${file}: does not match schemas/claims.schema.json: `);
    expect(String(err)).toMatch(says);
  });

  test('a report that refers to an observation it does not hold is refused', () => {
    const r = structuredClone(report);
    r.claims[1]!.observations[0]!.id = 'nowhere/at all';
    const file = join(work.path, 'dangling.json');
    writeFileSync(file, JSON.stringify(r));
    expect(() => readClaimsReport(file)).toThrow(`claims refer to observations the report does not hold: ${r.claims[1]!.id} → nowhere/at all`);
  });

  test('writeReports refuses to write a report that does not match, names the file and the mismatch, and leaves the old files', () => {
    const dir = join(work.path, 'kept');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'claims.json'), 'the last good report');
    const bad = { ...report, claims: report.claims.map((c, i) => (i === 2 ? { ...c, verdict: 'maybe' } : c)) } as unknown as ClaimsReport;
    expect(() => writeReports(bad, dir)).toThrow(ReportSchemaError);
    expect(() => writeReports(bad, dir)).toThrow(
      new RegExp(
        `does not match schemas/claims\\.schema\\.json, so ${join(dir, 'claims.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was not written \\(a defect of clonelab.*/claims/2/verdict: must be one of`,
      ),
    );
    expect(readdirSync(dir)).toEqual(['claims.json']);
    expect(readFileSync(join(dir, 'claims.json'), 'utf8')).toBe('the last good report');
  });

  test('writeMatrix refuses a matrix that does not match, and writes nothing', () => {
    const m = buildMatrix([{ source: 'a', report }]);
    m.claims[0]!.cells[m.columns[0]!.label] = 'sort of';
    const dir = join(work.path, 'bad-matrix');
    expect(() => writeMatrix(m, dir)).toThrow(
      /does not match schemas\/matrix\.schema\.json, so .*matrix\.json was not written .*\/claims\/0\/cells\/.*: must be one of/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('evidence in claims.html', () => {
  const dataOf = (html: string) =>
    JSON.parse(html.match(/<script type="application\/json" id="clonelab-evidence">(.*?)<\/script>/s)![1]!) as {
      observations: Record<string, { result: unknown; evidence: unknown }>;
    };

  test('every observation’s result and evidence is in the page once, as data, and no <pre> carries a copy', () => {
    const html = renderHtml(report);
    const data = dataOf(html);
    expect(Object.keys(data.observations)).toEqual(report.observations.map((o) => o.id));
    for (const o of report.observations) expect(data.observations[o.id], o.id).toEqual({ result: shownResult(o), evidence: o.evidence });
    // A long piece of evidence and the longest result are in the page exactly once (they were in each
    // claim that used them, in the list of observations and, for the sharing matrix, in its table).
    const r = structuredClone(report);
    const used = r.observations.find((o) => r.claims.some((c) => c.observations.some((x) => x.id === o.id)))!;
    used.evidence = { taskStatus: Array.from({ length: 300 }, (_, i) => `Name:\tprobe-${i}\nState:\tS (sleeping)\nTgid:\t${1000 + i}`).join('\n') };
    const longestResult = r.observations.map((o) => JSON.stringify(shownResult(o))).sort((a, b) => b.length - a.length)[0]!;
    expect(longestResult.length).toBeGreaterThan(10_000);
    const page = renderHtml(r);
    for (const piece of [JSON.stringify(used.evidence), longestResult]) expect(page.split(piece.replace(/</g, '\\u003c')).length - 1).toBe(1);
    expect(html.match(/<pre>[^<]/g)).toBeNull();
  });

  test('evidence that holds "</script>" cannot end the data element', () => {
    const r = structuredClone(report);
    r.observations[0]!.evidence = { transcript: '$ echo "</script><script>alert(1)</script>" <!-- -->' };
    const html = renderHtml(r);
    expect(html).not.toContain('</script><script>alert(1)');
    expect(dataOf(html).observations[r.observations[0]!.id]!.evidence).toEqual(r.observations[0]!.evidence);
  });
});
