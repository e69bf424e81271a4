/**
 * The registry checks itself, from the code: `scanRepository()` reads what
 * the files say (which kinds each claim case file records, which claim IDs
 * its header lists, which rule tests exist, which probes, CLAIMS.md's table),
 * and `checkRegistry()` compares that with the registry (helpers/claims/index.ts),
 * as a pure function, so that a test can feed it a registry or a scan with
 * one thing changed and see the failure it must give.
 *
 * What it holds, each failure a sentence saying what is wrong and what to do:
 * - the family layout of helpers/claims/families.ts is on disk, and each
 *   family's case file runs the family's probe (directly, or through a
 *   helpers/harness function that runs it on the case's behalf), or the probe
 *   it declares it runs instead;
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
import { join, posix } from 'node:path';
import { BASELINE_ENVIRONMENT, CHECKED_ENVIRONMENTS } from './checked-environments.js';
import { familyFiles } from './families.js';
import { findPlaceholder, readsOf, VERDICTS, type Claim, type RegistryFamily } from './index.js';

/** The registry as the checker sees it: its families, and every claim in the registry's order. */
export interface Registry {
  families: readonly RegistryFamily[];
  claims: readonly Claim[];
  /**
   * The kinds each rule read when it judged a healthy run (evaluate().read),
   * by claim ID, when the caller has one. Only the wording of a failure
   * depends on it: a header that lists a claim whose rule still reads a kind
   * it no longer declares is fixed in the claim, not in the header.
   */
  bodyReads?: ReadonlyMap<string, readonly string[]>;
}

/** An exported function of helpers/harness/*.ts that runs a probe on its caller's behalf (lookupFromC runs the proc probe). */
export interface ProbeRunner {
  name: string;
  /** Its module, relative to the project root. */
  file: string;
  /** The probes it runs, itself or through other functions of the harness. */
  probes: string[];
}

/** What a claim case file (cases/claims/<family>.test.ts) says, read statically. */
export interface CaseFileScan {
  /** Kinds of its `observe('kind', ...)` calls. */
  recorded: string[];
  /** `observe(` calls whose kind is not a string literal, as "line N": the scan cannot tell what they record. */
  unreadable: string[];
  /** Probes it runs: by name (startProbe, runProbe, new Probe), or through a harness function (see `via`). */
  probes: string[];
  /** For a probe it runs only through harness functions: which, as "lookupFromC (helpers/harness/lookup.ts)". */
  via: Record<string, string>;
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
  /** The harness functions that run a probe for their caller, as scanHarness() found them. */
  runners: ProbeRunner[];
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

/** A probe run by name: the argument of startProbe('x'), runProbe('x') or new Probe('x'). */
const PROBE_BY_NAME = /\b(?:startProbe|runProbe|new Probe)\(\s*(['"])([\w-]+)\1/g;

const probesNamed = (text: string): string[] => [...text.matchAll(PROBE_BY_NAME)].map((m) => m[2]!);

/** The names a module imports, local name to imported name, by the module specifier they come from. */
function imports(text: string): { local: string; imported: string; from: string }[] {
  return [...text.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*(['"])([^'"]+)\2/gm)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((x) => x.trim().replace(/^type\s+/, ''))
      .filter(Boolean)
      .map((x) => {
        const [imported, local = imported] = x.split(/\s+as\s+/) as [string, string?];
        return { local, imported, from: m[3]! };
      }),
  );
}

/** The project-relative .ts file a relative import of `importer` (a project-relative path) names. */
const resolveImport = (importer: string, specifier: string): string => posix.join(posix.dirname(importer), specifier).replace(/\.js$/, '.ts');

/**
 * The functions of helpers/harness/*.ts that run a probe for their caller.
 * The files are prettier-formatted, so each top-level declaration begins at
 * column 0 and its body is the indented lines up to the next one; a function
 * (function name, or const name = ...) that runs a probe by name, or calls
 * one that does (of its own module, or imported from another harness module),
 * runs that probe. Only exported ones are returned: a case file can call no
 * other. The scan knows no function by name, so code moved between harness
 * modules is found where it lands.
 */
export function scanHarness(modules: readonly { file: string; text: string }[]): ProbeRunner[] {
  const files = modules.map((m) => m.file);
  const decls = modules.flatMap(({ file, text }) => {
    const chunks: { file: string; name: string; exported: boolean; body: string[] }[] = [];
    for (const { line } of codeLines(text)) {
      if (/^[^\s)}\]]/.test(line)) {
        const m = line.match(/^(export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?\s+(\w+)|(?:const|let)\s+(\w+)\b)/);
        chunks.push({ file, name: m?.[2] ?? m?.[3] ?? '', exported: Boolean(m?.[1]), body: [] });
      }
      chunks.at(-1)?.body.push(line);
    }
    const imported = imports(text)
      .map((i) => ({ ...i, file: resolveImport(file, i.from) }))
      .filter((i) => files.includes(i.file));
    return chunks
      .filter((c) => c.name)
      .map((c) => {
        const body = c.body.join('\n');
        const calls = (name: string) => new RegExp(`\\b${name}\\(`).test(body);
        // What the body calls, as declarations: its own module's functions, and those it imports from another harness module.
        const callees = [
          ...chunks.filter((o) => o !== c && o.name && calls(o.name)).map((o) => ({ file, name: o.name })),
          ...imported.filter((i) => calls(i.local)).map((i) => ({ file: i.file, name: i.imported })),
        ];
        return { ...c, probes: new Set(probesNamed(body)), callees };
      });
  });
  // Through calls: until no function gains a probe.
  for (let changed = true; changed;) {
    changed = false;
    for (const d of decls) {
      for (const callee of d.callees) {
        for (const p of decls.find((x) => x.file === callee.file && x.name === callee.name)?.probes ?? []) {
          if (!d.probes.has(p)) {
            d.probes.add(p);
            changed = true;
          }
        }
      }
    }
  }
  return decls.filter((d) => d.exported && d.probes.size).map((d) => ({ name: d.name, file: d.file, probes: [...d.probes] }));
}

/**
 * What a claim case file records, runs and lists, read from its text.
 * `runners` are the harness functions that run probes (scanHarness()), and
 * `file` the case file's path, which its relative imports are resolved from.
 */
export function scanCaseFile(
  text: string,
  { runners = [], file = 'cases/claims/case.test.ts' }: { runners?: readonly ProbeRunner[]; file?: string } = {},
): CaseFileScan {
  const recorded = new Set<string>();
  const unreadable: string[] = [];
  const probes = new Set<string>();
  const code = codeLines(text);
  for (const { n, line } of code) {
    for (const m of line.matchAll(/\bobserve\(\s*(?:(['"])(\w+)\1)?/g)) {
      if (m[2]) recorded.add(m[2]);
      else unreadable.push(`line ${n}`);
    }
    for (const p of probesNamed(line)) probes.add(p);
  }
  // Calls of harness functions it imports that run a probe on its behalf.
  const via: Record<string, string> = {};
  const body = code.map((l) => l.line).join('\n');
  for (const i of imports(text)) {
    const runner = runners.find((r) => r.name === i.imported && r.file === resolveImport(file, i.from));
    if (!runner || !new RegExp(`\\b${i.local}\\(`).test(body)) continue;
    for (const p of runner.probes.filter((x) => !probes.has(x)))
      via[p] = via[p] ? `${via[p]}, ${runner.name} (${runner.file})` : `${runner.name} (${runner.file})`;
  }
  return { recorded: [...recorded], unreadable, probes: [...probes, ...Object.keys(via)], via, header: headerClaims(text) };
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

/** Where the functions that run probes for the case files live (helpers/harness/*.ts). */
export const HARNESS_DIR = 'helpers/harness';

/** Read every part of each family, the harness, the probes and CLAIMS.md under `root`. */
export function scanRepository(root: string, families: readonly string[]): RepositoryScan {
  const read = (p: string) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined);
  const runners = scanHarness(
    readdirSync(join(root, HARNESS_DIR))
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => ({ file: `${HARNESS_DIR}/${f}`, text: readFileSync(join(root, HARNESS_DIR, f), 'utf8') })),
  );
  return {
    runners,
    families: families.map((name) => {
      const files = familyFiles(name);
      const caseText = read(files.caseFile);
      const ruleText = read(files.ruleTests);
      return {
        name,
        ...(caseText === undefined ? {} : { caseFile: scanCaseFile(caseText, { runners, file: files.caseFile }) }),
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
  const moduleOf = (family: string | undefined) => (family === undefined ? 'no family module' : familyFiles(family).ruleModule);

  // The layout: each family's four parts, or a declared stand-in for the probe; and the case file runs the probe it should.
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
    const started = s.caseFile?.probes ?? [];
    const runs = started.map((p) => (s.caseFile?.via[p] ? `${p} (through ${s.caseFile.via[p]})` : p)).join(', ') || 'no probe';
    const stand = fam.layout.probe;
    if (!stand) {
      if (!s.probe) {
        fail(
          `Family ${fam.name}: ${files.probe} is missing; add the probe, or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.`,
        );
      } else if (s.caseFile && !started.includes(fam.name)) {
        fail(
          `Family ${fam.name}: ${files.caseFile} never runs its own probe, ${files.probe} (it runs ${runs}): run it from the experiments ` +
            `(startProbe('${fam.name}', ...), runProbe, new Probe, or a function of ${HARNESS_DIR}/ that does), ` +
            'or declare in helpers/claims/families.ts (FAMILY_LAYOUT) which probe the family runs instead, and why.',
        );
      }
      continue;
    }
    if (!isSentence(stand.because)) fail(notSentence(`Family ${fam.name}'s reason for having no probe of its own`, stand.because));
    if (s.probe)
      fail(
        `Family ${fam.name} declares it has no probe of its own, but ${files.probe} exists: remove the declaration from helpers/claims/families.ts, or the file.`,
      );
    if (stand.instead === null && started.length) {
      fail(`Family ${fam.name} declares it runs no probe, but ${files.caseFile} runs ${runs}: correct the declaration in helpers/claims/families.ts.`);
    }
    if (stand.instead !== null) {
      if (!scan.probes.includes(stand.instead))
        fail(`Family ${fam.name} declares it runs the ${stand.instead} probe instead of its own, but ${familyFiles(stand.instead).probe} does not exist.`);
      else if (s.caseFile && !started.includes(stand.instead)) {
        fail(
          `Family ${fam.name} declares it runs the ${stand.instead} probe instead of its own, but ${files.caseFile} never runs it (it runs ${runs}): correct the declaration in helpers/claims/families.ts.`,
        );
      }
    }
  }

  // Claims: each once, each with a rule (its verdicts and its rule tests) or a reason it cannot be tested.
  const seen = new Map<string, string>();
  for (const fam of registry.families) {
    for (const c of fam.claims) {
      const other = seen.get(c.id);
      if (other) fail(`Claim ${c.id} is defined twice, in ${moduleOf(other)} and ${moduleOf(fam.name)}: keep one.`);
      seen.set(c.id, fam.name);
      const where = `Claim ${c.id} (${moduleOf(fam.name)})`;
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
        `The kind ${k} is declared evidence-only in ${declared.map((f) => moduleOf(f.name)).join(', ')}, but ${read.join(', ')} ${read.length > 1 ? 'read' : 'reads'} it: remove the declaration.`,
      );
    }
    if (!read && !declared.some((f) => fams.includes(f.name))) {
      fail(
        `The kind ${k} is recorded by ${fams.map((f) => familyFiles(f).caseFile).join(', ')} but no rule reads it: read it in a claim's rule (and declare it in needs or uses), or declare it evidence-only, with the reason, in ${moduleOf(fams[0])}.`,
      );
    }
  }
  for (const fam of registry.families) {
    for (const [k, reason] of Object.entries(fam.evidenceOnly)) {
      if (!scanOf.get(fam.name)?.caseFile?.recorded.includes(k)) {
        fail(`${moduleOf(fam.name)} declares the kind ${k} evidence-only, but ${familyFiles(fam.name).caseFile} does not record it: remove the declaration.`);
      }
      if (reason === undefined || !isSentence(reason)) fail(notSentence(`The reason the kind ${k} is evidence-only (${moduleOf(fam.name)})`, reason ?? ''));
    }
  }

  // Headers: each case file lists exactly the claims that read what it records.
  const evidenceOnly = new Set(registry.families.flatMap((f) => Object.keys(f.evidenceOnly)));
  const them = (ks: readonly string[]) => (ks.length > 1 ? 'them' : 'it');
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
    // Kinds this file records that no rule declares: a claim that lost one from its needs or uses may still list the file.
    const undeclared = recorded.filter((k) => !readers.has(k) && !evidenceOnly.has(k));
    let declarationsDrifted = false;
    const listed = (id: string): string => {
      const c = registry.claims.find((x) => x.id === id);
      if (!c) return `it lists ${id}, which is no claim of the registry`;
      const inBody = (registry.bodyReads?.get(id) ?? []).filter((k) => recorded.includes(k) && !(readsOf(c) as readonly string[]).includes(k));
      if (inBody.length) {
        declarationsDrifted = true;
        return `it lists ${id}, whose rule reads ${inBody.join(', ')} (recorded here) without declaring ${them(inBody)}: declare ${them(inBody)} in ${id}'s needs or uses (${moduleOf(familyOfClaim.get(id))})`;
      }
      if (undeclared.length) {
        declarationsDrifted = true;
        return `it lists ${id}, whose rule declares nothing the file records, while the file records ${undeclared.join(', ')}, which no rule declares: if ${id} reads ${them(undeclared)}, declare ${them(undeclared)} in its needs or uses (${moduleOf(familyOfClaim.get(id))})`;
      }
      return `it lists ${id}, whose rule reads nothing the file records`;
    };
    const missing = expected.filter((id) => !header.includes(id));
    const extra = header.filter((id) => !expected.includes(id));
    const twice = header.filter((id, i) => header.indexOf(id) !== i);
    if (missing.length || extra.length || twice.length) {
      const parts = [
        `${file}: its header's Claims: line does not match what the file records`,
        ...missing.map((id) => `it lacks ${id} (the file records ${because(id)}, which ${id} reads)`),
        ...extra.map(listed),
        ...twice.map((id) => `it lists ${id} twice`),
      ];
      // Where a claim's declarations drifted, the header is right and the fix is in the claim: no line to copy.
      if (!declarationsDrifted) parts.push(`the line must read " * Claims: ${ids(expected)}"`);
      fail(`${parts.join('; ')}.`);
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
      fail(`Claim ${c.id} (${moduleOf(familyOfClaim.get(c.id))}) is not in CLAIMS.md's table: add its row.`);
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
      const file = moduleOf(familyOfClaim.get(c.id));
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
