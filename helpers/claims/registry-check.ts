/**
 * The registry checks itself, from the code: `scanRepository()` reads what
 * the files say (which kinds each claim case file records, which claim IDs
 * its header lists, which rule tests exist, which probes, CLAIMS.md's table),
 * and `checkRegistry()` compares that with the registry (helpers/claims/index.ts),
 * as a pure function, so that a test can feed it a registry or a scan with
 * one thing changed and see the failure it must give.
 *
 * What it holds, each failure a sentence saying what is wrong and what to do:
 * - the family layout of helpers/claims/families.ts is on disk;
 * - every claim has a rule with its verdicts and rule tests in its family's
 *   rules file, or is not-testable with its reason;
 * - every kind a rule needs or uses is recorded by some claim case file;
 * - every recorded kind is read by some rule, or is declared evidence-only,
 *   with its reason, by a family whose case file records it;
 * - every case file's header lists (a "Claims:" line) exactly the claims that
 *   read a kind it records;
 * - CLAIMS.md has the registry's IDs in the registry's order, with the same
 *   where, excerpt, statement and family;
 * - every environment a claim's expectedIn names is one check:environments
 *   makes (not the baseline), with a sentence for its reason.
 * No kind is named here: the kinds are whatever the case files record and
 * the rules read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASELINE_ENVIRONMENT, CHECKED_ENVIRONMENTS } from './checked-environments.js';
import { familyFiles } from './families.js';
import { findPlaceholder, readsOf, VERDICTS, type Claim, type RegistryFamily } from './index.js';

/** The registry as the checker sees it: its families, and every claim in the registry's order. */
export interface Registry {
  families: readonly RegistryFamily[];
  claims: readonly Claim[];
}

/** What a claim case file (cases/claims/<family>.test.ts) says, read statically. */
export interface CaseFileScan {
  /** Kinds of its `observe('kind', ...)` calls. */
  recorded: string[];
  /** `observe(` calls whose kind is not a string literal, as "line N": the scan cannot tell what they record. */
  unreadable: string[];
  /** Probes it starts by name (startProbe, runProbe, new Probe). */
  probes: string[];
  /** The claim IDs of its header's "Claims:" line, or why they could not be read. */
  header: string[] | { problem: string };
}

/** One family's files, as found on disk. */
export interface FamilyScan {
  name: string;
  /** Undefined when cases/claims/<family>.test.ts is missing. */
  caseFile?: CaseFileScan;
  ruleModule: boolean;
  /** The claim IDs of the `ruleCases('ID', ...)` calls in cases/rules/<family>.rules.test.ts; undefined when the file is missing. */
  ruleTests?: string[];
  /** native-helpers/<family>.c exists. */
  probe: boolean;
}

export interface ClaimsTableRow {
  line: number;
  id: string;
  where: string;
  excerpt: string;
  statement: string;
  family: string;
}

export interface RepositoryScan {
  families: FamilyScan[];
  /** Base names of native-helpers/*.c. */
  probes: string[];
  /** CLAIMS.md's claim table, or why it could not be read. */
  claimsTable: ClaimsTableRow[] | { problem: string };
}

/** The columns of CLAIMS.md's claim table, in order. */
export const CLAIMS_TABLE_COLUMNS = ['ID', 'where', 'seed excerpt (abridged)', "clonelab's statement", 'family'] as const;

/** Lines outside comments, numbered from 1. */
function codeLines(text: string): { n: number; line: string }[] {
  return text
    .split('\n')
    .map((line, i) => ({ n: i + 1, line }))
    .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l.line));
}

/** The "Claims:" line of a file's top-of-file doc comment. */
export function headerClaims(text: string): string[] | { problem: string } {
  const doc = text.match(/^\s*\/\*\*([\s\S]*?)\*\//)?.[1];
  if (doc === undefined) return { problem: 'it has no doc comment at the top of the file' };
  const lines = doc
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .filter((l) => /^Claims:/.test(l));
  if (lines.length !== 1)
    return {
      problem: lines.length ? `its header comment has ${lines.length} "Claims:" lines, where it needs one` : 'its header comment has no "Claims:" line',
    };
  const ids = lines[0]!
    .replace(/^Claims:/, '')
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  const bad = ids.filter((id) => !/^[TABC]\d+$/.test(id));
  if (bad.length)
    return {
      problem: `its "Claims:" line holds ${bad.map((b) => `"${b}"`).join(', ')}, which ${bad.length > 1 ? 'are not claim IDs' : 'is not a claim ID'} (space-separated IDs such as A3, only)`,
    };
  return ids;
}

/** What a claim case file records, starts and lists, read from its text. */
export function scanCaseFile(text: string): CaseFileScan {
  const recorded = new Set<string>();
  const unreadable: string[] = [];
  const probes = new Set<string>();
  for (const { n, line } of codeLines(text)) {
    for (const m of line.matchAll(/\bobserve\(\s*(?:(['"])(\w+)\1)?/g)) {
      if (m[2]) recorded.add(m[2]);
      else unreadable.push(`line ${n}`);
    }
    for (const m of line.matchAll(/\b(?:startProbe|runProbe|new Probe)\(\s*(['"])([\w-]+)\1/g)) probes.add(m[2]!);
  }
  return { recorded: [...recorded], unreadable, probes: [...probes], header: headerClaims(text) };
}

/** Split one markdown table row into its cells (a `\|` stays in its cell). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** CLAIMS.md's claim table: the one whose header begins "| ID |". */
export function parseClaimsTable(markdown: string): ClaimsTableRow[] | { problem: string } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\|\s*ID\s*\|/.test(l));
  if (start < 0) return { problem: 'CLAIMS.md has no table whose header begins "| ID |"' };
  const header = cells(lines[start]!);
  if (header.join(' | ') !== CLAIMS_TABLE_COLUMNS.join(' | ')) {
    return {
      problem: `CLAIMS.md's claim table (line ${start + 1}) has the columns "${header.join(' | ')}", where the check reads "${CLAIMS_TABLE_COLUMNS.join(' | ')}"`,
    };
  }
  const rows: ClaimsTableRow[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const c = cells(lines[i]!);
    if (c.length !== CLAIMS_TABLE_COLUMNS.length)
      return { problem: `CLAIMS.md line ${i + 1} has ${c.length} cells, where the claim table has ${CLAIMS_TABLE_COLUMNS.length}` };
    rows.push({ line: i + 1, id: c[0]!, where: c[1]!, excerpt: c[2]!, statement: c[3]!, family: c[4]!.replace(/^`|`$/g, '') });
  }
  return rows;
}

/** Read every part of each family, the probes and CLAIMS.md under `root`. */
export function scanRepository(root: string, families: readonly string[]): RepositoryScan {
  const read = (p: string) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined);
  return {
    families: families.map((name) => {
      const files = familyFiles(name);
      const caseText = read(files.caseFile);
      const ruleText = read(files.ruleTests);
      return {
        name,
        ...(caseText === undefined ? {} : { caseFile: scanCaseFile(caseText) }),
        ruleModule: existsSync(join(root, files.ruleModule)),
        ...(ruleText === undefined ? {} : { ruleTests: [...ruleText.matchAll(/\bruleCases\(\s*(['"])(\w+)\1/g)].map((m) => m[2]!) }),
        probe: existsSync(join(root, files.probe)),
      };
    }),
    probes: readdirSync(join(root, 'native-helpers'))
      .filter((f) => f.endsWith('.c'))
      .map((f) => f.slice(0, -2)),
    claimsTable: ((t) => (t === undefined ? { problem: 'CLAIMS.md is missing at the project root' } : parseClaimsTable(t)))(read('CLAIMS.md')),
  };
}

/**
 * A reason that reads as a sentence: a capital first, a full stop (or ? or !)
 * last, at least five words, and no text that stands for a missing value.
 */
export function isSentence(s: string): boolean {
  return /^[A-Z]/.test(s) && /[.!?]["')]?$/.test(s) && s.split(/\s+/).length >= 5 && findPlaceholder(s) === undefined;
}

const notSentence = (what: string, s: string) =>
  `${what} is not a sentence ("${s}"): begin with a capital letter, end with a full stop, and say why in at least five words.`;

/** What a rule may return: not-testable is a property of the claim, not an outcome of a rule. */
const RULE_VERDICTS: readonly string[] = VERDICTS.filter((v) => v !== 'not-testable');

const ids = (xs: readonly string[]) => xs.join(' ') || '(none)';

/** Every way the registry and the files disagree, one sentence each; empty when they agree. */
export function checkRegistry(registry: Registry, scan: RepositoryScan): string[] {
  const failures: string[] = [];
  const fail = (s: string) => failures.push(s);
  const scanOf = new Map(scan.families.map((f) => [f.name, f]));
  const familyOfClaim = new Map(registry.families.flatMap((f) => f.claims.map((c) => [c.id, f.name] as const)));

  // The layout: each family's four parts, or a declared stand-in for the probe.
  for (const fam of registry.families) {
    const s = scanOf.get(fam.name);
    const files = familyFiles(fam.name);
    if (!s) {
      fail(`Family ${fam.name} was not scanned: pass every family of the registry to scanRepository().`);
      continue;
    }
    if (!s.caseFile) fail(`Family ${fam.name}: ${files.caseFile} is missing; every family records its observations in a case file of its name.`);
    if (!s.ruleModule) fail(`Family ${fam.name}: ${files.ruleModule} is missing; every family keeps its kinds and rules in a module of its name.`);
    if (!s.ruleTests) fail(`Family ${fam.name}: ${files.ruleTests} is missing; every family tests its rules in a file of its name.`);
    const stand = fam.layout.probe;
    if (!stand) {
      if (!s.probe)
        fail(
          `Family ${fam.name}: ${files.probe} is missing; add the probe, or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.`,
        );
      continue;
    }
    if (!isSentence(stand.because)) fail(notSentence(`Family ${fam.name}'s reason for having no probe of its own`, stand.because));
    if (s.probe)
      fail(
        `Family ${fam.name} declares it has no probe of its own, but ${files.probe} exists: remove the declaration from helpers/claims/families.ts, or the file.`,
      );
    const started = s.caseFile?.probes ?? [];
    if (stand.instead === null && started.length) {
      fail(
        `Family ${fam.name} declares it runs no probe, but ${files.caseFile} starts ${started.join(', ')}: correct the declaration in helpers/claims/families.ts.`,
      );
    }
    if (stand.instead !== null) {
      if (!scan.probes.includes(stand.instead))
        fail(`Family ${fam.name} declares it runs the ${stand.instead} probe instead of its own, but native-helpers/${stand.instead}.c does not exist.`);
      else if (s.caseFile && !started.includes(stand.instead)) {
        fail(
          `Family ${fam.name} declares it runs the ${stand.instead} probe instead of its own, but ${files.caseFile} never starts it (it starts ${started.join(', ') || 'no probe'}): correct the declaration in helpers/claims/families.ts.`,
        );
      }
    }
  }

  // Claims: each once, each with a rule (its verdicts and its rule tests) or a reason it cannot be tested.
  const seen = new Map<string, string>();
  for (const fam of registry.families) {
    for (const c of fam.claims) {
      const other = seen.get(c.id);
      if (other) fail(`Claim ${c.id} is defined twice, in helpers/claims/${other}.ts and helpers/claims/${fam.name}.ts: keep one.`);
      seen.set(c.id, fam.name);
      const where = `Claim ${c.id} (helpers/claims/${fam.name}.ts)`;
      if (c.notTestable !== undefined) {
        if (!isSentence(c.notTestable)) fail(notSentence(`${where}'s reason for being not-testable`, c.notTestable));
        if (c.decide) fail(`${where} has a rule and is declared not-testable: keep one.`);
        if (readsOf(c).length)
          fail(`${where} is not-testable but declares kinds it reads (${readsOf(c).join(', ')}): a claim no observation bears on reads none.`);
        continue;
      }
      if (!c.decide) {
        fail(`${where} has no rule: give it decide() and its verdicts, or notTestable with the reason no observation on a Linux host can bear on it.`);
        continue;
      }
      if (!c.verdicts?.length) fail(`${where} does not declare the verdicts its rule can return (verdicts: [...]), which its rule tests must each reach.`);
      for (const v of c.verdicts ?? []) {
        if (!RULE_VERDICTS.includes(v))
          fail(
            `${where} declares the verdict "${v}", which a rule cannot return (a rule returns one of ${RULE_VERDICTS.join(', ')}; not-testable is declared with notTestable).`,
          );
      }
      const tests = scanOf.get(fam.name)?.ruleTests;
      if (tests && !tests.includes(c.id)) {
        const elsewhere = scan.families.filter((f) => f.ruleTests?.includes(c.id)).map((f) => familyFiles(f.name).ruleTests);
        fail(
          `${where} has no rule tests in ${familyFiles(fam.name).ruleTests} (ruleCases('${c.id}', ...))${elsewhere.length ? `; they are in ${elsewhere.join(', ')}: move them to the file of its family` : ''}.`,
        );
      }
    }
  }

  // Kinds: what the rules read against what the case files record.
  const recordedBy = new Map<string, string[]>();
  for (const s of scan.families) {
    for (const k of s.caseFile?.recorded ?? []) recordedBy.set(k, [...(recordedBy.get(k) ?? []), s.name]);
    if (s.caseFile?.unreadable.length) {
      fail(
        `${familyFiles(s.name).caseFile} calls observe() with a kind that is not a string literal (${s.caseFile.unreadable.join(', ')}): write the kind as observe('kind', ...), so that the registry check can see what it records.`,
      );
    }
  }
  const readers = new Map<string, string[]>();
  for (const c of registry.claims) for (const k of readsOf(c)) readers.set(k, [...(readers.get(k) ?? []), c.id]);
  for (const c of registry.claims) {
    for (const k of readsOf(c)) {
      if (!recordedBy.has(k)) {
        fail(
          `Claim ${c.id} ${c.needs.includes(k) ? 'needs' : 'uses'} the kind ${k}, but no claim case file records it (no observe('${k}', ...) in cases/claims/*.test.ts): record it, or stop reading it.`,
        );
      }
    }
  }
  for (const [k, fams] of recordedBy) {
    const declared = registry.families.filter((f) => f.evidenceOnly[k as keyof RegistryFamily['evidenceOnly']] !== undefined);
    const read = readers.get(k);
    if (read && declared.length) {
      fail(
        `The kind ${k} is declared evidence-only in helpers/claims/${declared.map((f) => f.name).join(', ')}.ts, but ${read.join(', ')} ${read.length > 1 ? 'read' : 'reads'} it: remove the declaration.`,
      );
    }
    if (!read && !declared.some((f) => fams.includes(f.name))) {
      fail(
        `The kind ${k} is recorded by ${fams.map((f) => familyFiles(f).caseFile).join(', ')} but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in helpers/claims/${fams[0]}.ts.`,
      );
    }
  }
  for (const fam of registry.families) {
    for (const [k, reason] of Object.entries(fam.evidenceOnly)) {
      if (!scanOf.get(fam.name)?.caseFile?.recorded.includes(k)) {
        fail(
          `helpers/claims/${fam.name}.ts declares the kind ${k} evidence-only, but ${familyFiles(fam.name).caseFile} does not record it: remove the declaration.`,
        );
      }
      if (reason === undefined || !isSentence(reason))
        fail(notSentence(`The reason the kind ${k} is evidence-only (helpers/claims/${fam.name}.ts)`, reason ?? ''));
    }
  }

  // Headers: each case file lists exactly the claims that read what it records.
  for (const s of scan.families) {
    if (!s.caseFile) continue;
    const file = familyFiles(s.name).caseFile;
    const recorded = s.caseFile.recorded;
    const expected = registry.claims.filter((c) => readsOf(c).some((k) => recorded.includes(k))).map((c) => c.id);
    const header = s.caseFile.header;
    if (!Array.isArray(header)) {
      fail(`${file}: ${header.problem}; it records ${recorded.join(', ') || 'nothing'}, so the line must read " * Claims: ${ids(expected)}".`);
      continue;
    }
    const because = (id: string) => {
      const c = registry.claims.find((x) => x.id === id);
      return c
        ? readsOf(c)
            .filter((k) => recorded.includes(k))
            .join(', ')
        : '';
    };
    const missing = expected.filter((id) => !header.includes(id));
    const extra = header.filter((id) => !expected.includes(id));
    const twice = header.filter((id, i) => header.indexOf(id) !== i);
    if (missing.length || extra.length || twice.length) {
      fail(
        [
          `${file}: its header's Claims: line does not match what the file records`,
          ...missing.map((id) => `it lacks ${id} (the file records ${because(id)}, which ${id} reads)`),
          ...extra.map((id) =>
            familyOfClaim.has(id) ? `it lists ${id}, whose rule reads nothing the file records` : `it lists ${id}, which is no claim of the registry`,
          ),
          ...twice.map((id) => `it lists ${id} twice`),
          `the line must read " * Claims: ${ids(expected)}".`,
        ].join('; '),
      );
    }
  }

  // CLAIMS.md: the same claims in the same order, and the same words.
  if (!Array.isArray(scan.claimsTable)) {
    fail(`${scan.claimsTable.problem}.`);
  } else {
    const table = scan.claimsTable;
    const inTable = table.map((r) => r.id);
    const inRegistry = registry.claims.map((c) => c.id);
    for (const r of table.filter((x) => !inRegistry.includes(x.id)))
      fail(`CLAIMS.md line ${r.line} has claim ${r.id}, which the registry does not hold: add it to its family's module, or remove the row.`);
    for (const c of registry.claims.filter((x) => !inTable.includes(x.id)))
      fail(`Claim ${c.id} (helpers/claims/${familyOfClaim.get(c.id)}.ts) is not in CLAIMS.md's table: add its row.`);
    const common = (xs: string[], other: string[]) => xs.filter((x) => other.includes(x));
    if (common(inTable, inRegistry).join(' ') !== common(inRegistry, inTable).join(' ')) {
      fail(
        `CLAIMS.md lists the claims in the order ${ids(inTable)}, the registry in the order ${ids(inRegistry)}: the IDs are stable and ordered as in CLAIMS.md.`,
      );
    }
    for (const r of table) {
      const c = registry.claims.find((x) => x.id === r.id);
      if (!c) continue;
      const at = `CLAIMS.md line ${r.line} (${r.id})`;
      const file = `helpers/claims/${familyOfClaim.get(c.id)}.ts`;
      if (r.where !== c.source)
        fail(`${at} says where is "${r.where}", the registry (${file}) "${c.source}": CLAIMS.md is the source; copy it into the claim's source.`);
      if (r.excerpt !== c.excerpt)
        fail(`${at} has the excerpt "${r.excerpt}", the registry (${file}) "${c.excerpt}": CLAIMS.md is the source; copy it into the claim's excerpt.`);
      if (r.statement !== c.statement)
        fail(
          `${at} has the statement "${r.statement}", the registry (${file}) "${c.statement}": the registry is the source; copy its statement into CLAIMS.md.`,
        );
      if (r.family !== familyOfClaim.get(c.id))
        fail(`${at} names the family "${r.family}", but the claim is defined in ${file}: correct CLAIMS.md's family column.`);
    }
  }

  // Expected differences between environments, beside the claims.
  for (const c of registry.claims) {
    for (const [env, e] of Object.entries(c.expectedIn ?? {})) {
      const at = `Claim ${c.id}'s expectedIn.${env}`;
      if (!(CHECKED_ENVIRONMENTS as readonly string[]).includes(env)) {
        fail(
          `${at} names an environment npm run check:environments does not make (it makes ${CHECKED_ENVIRONMENTS.join(', ')}; helpers/claims/checked-environments.ts).`,
        );
      } else if (env === BASELINE_ENVIRONMENT) {
        fail(`${at}: ${BASELINE_ENVIRONMENT} is the baseline the others are compared with, and cannot differ from itself.`);
      }
      if (!e || !isSentence(e.because)) fail(notSentence(at, e?.because ?? ''));
    }
  }
  return failures;
}
