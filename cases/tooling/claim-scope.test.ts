/**
 * helpers/claims/scope.ts: which case files `npm run kernels -- --claim ID`
 * runs, which claims such a run covers, and how the matrix marks the others.
 * Over the real registry and case files (what a user gets), over a synthetic
 * registry (the rule of coverage, case by case), and through the kernels
 * command's parser (the usage errors).
 */
import { expect, test } from 'vitest';
import { runCommand } from '../../helpers/cli.js';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { CLAIMS, readsOf, type Claim } from '../../helpers/claims/index.js';
import { applyScope, claimScope, claimsCovered, OUT_OF_SCOPE, recordedKinds } from '../../helpers/claims/scope.js';
import type { Matrix } from '../../helpers/report/matrix.js';
import { checkedJson } from '../../helpers/report/schema.js';
import { command as kernels } from '../../scripts/kernels.js';

const recorded = recordedKinds();

test('the scan reads every claim-bearing case file, and each records some kind', () => {
  expect(Object.keys(recorded)).toEqual([...CLAIM_CASE_FILES]);
  for (const f of CLAIM_CASE_FILES) expect(recorded[f]!.length, f).toBeGreaterThan(0);
});

test('--claim C3 runs the signals case file alone, and C3 is in scope while the clone claims are not', () => {
  const s = claimScope(['C3'], recorded);
  expect(s.asked).toEqual(['C3']);
  expect(s.caseFiles).toEqual(['cases/claims/signals.test.ts']);
  expect(s.claims).toContain('C3');
  expect(s.claims).not.toContain('A5');
});

test('every claim that reads a recorded kind: its scope runs the files that record each kind it reads, and covers it', () => {
  for (const c of CLAIMS) {
    const reads = readsOf(c) as string[];
    if (!reads.some((k) => Object.values(recorded).some((ks) => ks.includes(k)))) continue;
    const s = claimScope([c.id], recorded);
    expect(s.claims, c.id).toContain(c.id);
    for (const k of reads) {
      const holders = CLAIM_CASE_FILES.filter((f) => recorded[f]!.includes(k));
      for (const f of holders) expect(s.caseFiles, `${c.id} reads ${k}, recorded by ${f}`).toContain(f);
    }
    expect(s.caseFiles.length, c.id).toBeLessThan(CLAIM_CASE_FILES.length);
  }
});

// ------------------------------------------------------------------ a synthetic registry

const claim = (id: string, needs: string[], uses: string[] = []) => ({ id, needs, uses }) as unknown as Claim;
const FAKE = {
  recorded: { 'a.test.ts': ['k1'], 'b.test.ts': ['k2', 'k3'], 'c.test.ts': ['k4'] },
  claims: [claim('A1', ['k1']), claim('A2', ['k2'], ['k3']), claim('A3', ['k1', 'k2']), claim('A4', ['k9']), claim('A5', [], ['k3']), claim('A6', ['k4'])],
};

test.for([
  { ids: ['A1'], files: ['a.test.ts'], covered: ['A1', 'A4'], why: 'a kind no file records (k9) is no reason to run anything' },
  { ids: ['A2'], files: ['b.test.ts'], covered: ['A2', 'A4', 'A5'], why: 'a kind a rule only uses counts: its verdict may move with it' },
  { ids: ['A3'], files: ['a.test.ts', 'b.test.ts'], covered: ['A1', 'A2', 'A3', 'A4', 'A5'], why: 'a claim reading two files runs both' },
  { ids: ['A6', 'A1'], files: ['a.test.ts', 'c.test.ts'], covered: ['A1', 'A4', 'A6'], why: 'several claims: the union, in file order' },
])('$ids: runs $files and covers $covered ($why)', ({ ids, files, covered }) => {
  const s = claimScope(ids, FAKE.recorded, FAKE.claims);
  expect(s.caseFiles).toEqual(files);
  expect(s.claims).toEqual(covered);
  expect(claimsCovered(files, FAKE.recorded, FAKE.claims)).toEqual(covered);
});

test('an unknown ID names the valid ones; claims that read nothing recorded have nothing to run', () => {
  expect(() => claimScope(['A1', 'Z9'], FAKE.recorded, FAKE.claims)).toThrow('unknown claim Z9 (valid: A1, A2, A3, A4, A5, A6)');
  expect(() => claimScope(['A4'], FAKE.recorded, FAKE.claims)).toThrow('A4 reads no observation that a case file records: there is nothing to run for it');
});

// ------------------------------------------------------------------ the matrix

function matrix(): Matrix {
  const cols = (a: string, b: string) => ({ host: a, '5.10': b });
  return {
    schemaVersion: 2,
    generatedAt: '2026-01-01T00:00:00.000Z',
    columns: [],
    claims: [
      { id: 'A5', statement: 'a5', cells: cols('confirmed', 'inconclusive'), explanations: { host: 'x', '5.10': 'y' }, differs: true, facts: [] },
      { id: 'C3', statement: 'c3', cells: cols('nuanced', 'confirmed'), explanations: { host: 'x', '5.10': 'y' }, differs: true, facts: [] },
      { id: 'T1', statement: 't1', cells: cols('confirmed', 'inconclusive'), explanations: { host: 'x', '5.10': 'y' }, differs: true, facts: [] },
      { id: 'B5', statement: 'b5', cells: cols('not-testable', 'not-testable'), explanations: { host: 'x', '5.10': 'y' }, differs: false, facts: [] },
    ],
    tests: [
      { name: 'kill', file: 'cases/claims/signals.test.ts', cells: cols('passed', 'passed'), differs: false },
      { name: 'clone', file: 'cases/claims/clone.test.ts', cells: cols('passed', 'missing'), differs: true },
    ],
  };
}

test('a narrowed matrix: claims out of scope say so in every column, after those in scope, and differ nowhere; tests of files not run are left out', () => {
  const m = applyScope(matrix(), { claims: ['C3', 'B5'], caseFiles: ['cases/claims/signals.test.ts'] });
  expect(m.claims.map((c) => [c.id, c.cells, c.differs])).toEqual([
    ['C3', { host: 'nuanced', '5.10': 'confirmed' }, true],
    ['B5', { host: 'not-testable', '5.10': 'not-testable' }, false],
    ['T1', { host: OUT_OF_SCOPE, '5.10': OUT_OF_SCOPE }, false],
    ['A5', { host: OUT_OF_SCOPE, '5.10': OUT_OF_SCOPE }, false],
  ]);
  expect(m.claims.find((c) => c.id === 'A5')!.explanations).toEqual({});
  expect(m.tests.map((t) => t.file)).toEqual(['cases/claims/signals.test.ts']);
  // matrix.json is checked against its schema on every write: the new cell is one it allows.
  expect(() => checkedJson('matrix', m, 'matrix.json')).not.toThrow();
});

// ------------------------------------------------------------------ the command line

async function parse(argv: string[]) {
  let stderr = '';
  let scoped: string[] | undefined;
  const code = await runCommand(
    kernels,
    argv,
    (o) => {
      scoped = o.claim;
    },
    { out: () => {}, err: (s) => (stderr += s) },
  );
  return { code, stderr, scoped };
}

test.for([
  { argv: ['--claim', 'C9'], says: /^kernels: --claim takes T1, A1, .*C5 \(CLAIMS\.md\), got 'C9'/ },
  { argv: ['--claim', 'B5'], says: /^kernels: --claim: B5 reads no observation that a case file records: there is nothing to run for it/ },
])('kernels $argv: usage error, exit 2', async ({ argv, says }) => {
  const r = await parse(argv);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(says);
});

test('kernels --claim C3 --claim A13 parses, in the order given', async () => {
  const r = await parse(['--claim', 'C3', '--claim', 'A13']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.scoped).toEqual(['C3', 'A13']);
});
