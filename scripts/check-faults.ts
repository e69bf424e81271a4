/**
 * npm run check:faults [-- --syscall NAME[:ACTION] ...] [--errno EPERM|ENOSYS] [--kill] [-j N]
 *                         [--probe-timeout MS] [--out DIR]
 *
 * Proves the evidence rules on real reports: reruns the claim cases
 * (helpers/claims/families.ts) with one syscall of the probes refused at a time,
 * through a seccomp filter on the probes only (native-helpers/fault.c, put
 * before every probe by CLONELAB_PROBE_WRAP; node, vitest and the shell never
 * carry it), and checks on each run's report:
 *   - a report was written, and the run did not crash (no error outside a
 *     test, no rule that threw, not interrupted);
 *   - nothing was left running (the run is under the reaper in
 *     --report-leftovers mode, and no probe task is left after all runs);
 *   - every claim keeps the baseline's verdict, or goes inconclusive, or
 *     changes with an explanation that names the refused syscall and the
 *     refusal (its errno, or SIGSYS for a killed thread);
 *   - no explanation holds an unobserved value (findPlaceholder).
 * Test failures are expected in a fault run: they are not invariant breaks.
 *
 * Without --syscall, the faults are every syscall the probes were seen to
 * make, by strace, in one traced run of the claim cases (not a list kept by
 * hand), with --errno (default EPERM), plus SECCOMP_RET_KILL_THREAD for a few
 * (KILL_FAULTS). ACTION is EPERM, ENOSYS or KILL_THREAD (--kill: all).
 *
 * Writes, under reports/faults/ (or --out): baseline/ and <syscall>-<action>/
 * (each run's report), syscalls.json (the traced list), faults.json,
 * faults.md and faults.html (the fault-by-claim table, changed cells marked).
 * Exit status 1 when an invariant broke, 2 on a bad argument.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { buildProbes } from '../helpers/harness/build.js';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import { CLAIMS, findPlaceholder, type Verdict } from '../helpers/claims/index.js';
import { environment } from '../helpers/harness/environment.js';
import { leftoverProbeTasks } from '../helpers/harness/leftovers.js';
import { lastLines, runNestedSuite, type NestedSuiteRun } from '../helpers/harness/nested-suite.js';
import { readClaimsReport, type ClaimsReport } from '../helpers/report/claims-report.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { badge, esc, page } from '../helpers/report/html.js';
import { straceSyscalls, syscallTable, type SyscallTable } from '../helpers/harness/syscalls.js';
import {
  type Converter,
  defineCommand,
  directory,
  fail,
  flag,
  InvalidValue,
  oneOf,
  option,
  repeated,
  runMain,
  UsageError,
  wholeNumber,
} from '../helpers/cli.js';

const ACTIONS = ['EPERM', 'ENOSYS', 'KILL_THREAD'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * Faults that kill the calling thread (SECCOMP_RET_KILL_THREAD) in the full
 * matrix, each chosen for what it leaves behind: a signal sender dead
 * mid-experiment (tgkill), a thread dying where it asks who it is (gettid),
 * a creator dying as it clones (clone3), a parent dying before it reaps
 * (wait4: its children must still be reaped by the reaper).
 */
const KILL_FAULTS = ['tgkill', 'gettid', 'clone3', 'wait4'];

/** Probe deadline in fault and baseline runs: a probe that lost a syscall may wait forever. */
const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** One --syscall word: NAME or NAME:ACTION, several separated by commas. */
const syscallSpecs: Converter<{ name: string; action?: Action }[]> = {
  what: `NAME or NAME:ACTION (ACTION: ${ACTIONS.join(', ')}; e.g. tgkill, clone3:ENOSYS), or several separated by commas`,
  convert: (raw) =>
    raw.split(',').map((spec) => {
      const [name, action, extra] = spec.split(':');
      if (!name || !/^[a-z_][a-z0-9_]*$/.test(name) || extra !== undefined) throw new InvalidValue(spec === raw ? undefined : `'${spec}' is neither`);
      if (action !== undefined && !(ACTIONS as readonly string[]).includes(action))
        throw new UsageError(`--syscall: unknown action '${action}' in '${spec}' (valid: ${ACTIONS.join(', ')})`);
      return { name, ...(action ? { action: action as Action } : {}) };
    }),
};

export const command = defineCommand({
  name: 'check:faults',
  summary:
    "Reruns the claim cases with one syscall of the probes refused at a time (seccomp, native-helpers/fault.c) and checks every run's report: written, nothing left running, each verdict kept, inconclusive or explained by the refusal, no unobserved value. Without --syscall, the faults are every syscall a traced run of the claim cases made. Exit status 1 when an invariant broke.",
  options: {
    syscall: repeated({
      value: 'NAME[:ACTION]',
      description: 'refuse this syscall (ACTION: how; default --errno, or KILL_THREAD with --kill)',
      convert: syscallSpecs,
    }),
    errno: option({ value: 'ERRNO', description: 'the errno a refused call fails with', convert: oneOf(['EPERM', 'ENOSYS'] as const), defaultText: 'EPERM' }),
    kill: flag('kill the calling thread (SECCOMP_RET_KILL_THREAD) instead of failing the call'),
    jobs: option({
      value: 'N',
      short: 'j',
      description: 'fault runs at a time',
      convert: wholeNumber(1),
      default: () => cpus().length,
      defaultText: 'the number of CPUs',
    }),
    'probe-timeout': option({
      value: 'MS',
      description: "each probe's deadline in the baseline and fault runs (a probe that lost a syscall may wait forever)",
      convert: wholeNumber(100),
      default: DEFAULT_PROBE_TIMEOUT_MS,
    }),
    out: option({
      value: 'DIR',
      description: 'where the runs and the fault table are written',
      convert: directory,
      default: () => join(defaultReportDir(), 'faults'),
      defaultText: 'reports/faults',
    }),
  },
  check: (o) => {
    if (o.kill && o.errno !== undefined) throw new UsageError('--kill and --errno are exclusive: a refused call either fails or kills its thread');
  },
});

type Options = NonNullable<ReturnType<typeof command.parse>>;

/** Every --syscall name must be one this architecture's <sys/syscall.h> defines. */
export function checkSyscallNames(syscalls: readonly { name: string }[], table: SyscallTable): void {
  for (const s of syscalls) {
    if (!table.byName.has(s.name)) throw new UsageError(`unknown syscall '${s.name}': <sys/syscall.h> defines no __NR_${s.name} on ${process.arch}`);
  }
}

interface Fault {
  /** Directory and table name: tgkill-EPERM. */
  id: string;
  syscall: string;
  nr: number;
  action: Action;
}

/** The words CLONELAB_PROBE_WRAP puts before each probe: fault.c with this fault. */
function faultWrap(f: Fault): string[] {
  return ['{probeDir}/fault', ...(f.action === 'KILL_THREAD' ? ['--kill-thread'] : ['--errno', f.action]), '--syscall', String(f.nr), '--'];
}

const baseEnv = (probeTimeoutMs: number): Record<string, string> => ({
  // Set even when empty: a wrap or parent-check setting of the caller's shell must not leak in.
  CLONELAB_PROBE_WRAP: '',
  CLONELAB_PARENT_CHECK: '',
  CLONELAB_PROBE_TIMEOUT_MS: String(probeTimeoutMs),
});

// ------------------------------------------------------------------ the traced run

interface TracedList {
  seconds: number;
  syscalls: { name: string; nr: number; calls: number }[];
  /** Names strace printed that this architecture's headers do not define. */
  unknown: string[];
  /** Probes that ran under a test's own strace (ptrace cannot nest): their calls are not in the list. */
  untraced: string[];
  /** Tests that did not pass under strace (tracing changes timing and signal delivery). */
  testsNotPassed: string[];
}

/**
 * One run of the claim cases with every probe under `strace -f` (through the
 * probe wrap), and the union of the syscall names it saw. A probe that a test
 * already runs under its own strace (cases/claims/clone.test.ts) cannot be traced a
 * second time: it runs untraced and is listed.
 */
async function tracedSyscalls(probeDir: string, out: string, table: SyscallTable, probeTimeoutMs: number): Promise<TracedList> {
  const dir = join(out, 'trace');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777); // probes some tests run as another user (setpriv) write their traces here too
  const script = `if grep -q '^TracerPid:[[:space:]]*0$' /proc/self/status; then exec strace -f -ff -qq -e signal=none -o '${dir}/trace' -- "$@"; fi; printf '%s\\n' "$*" > '${dir}/untraced.'$$; exec "$@"`;
  const run = await runNestedSuite({
    readReport: readClaimsReport,
    probeDir,
    reportDir: join(out, 'traced-report'),
    files: CLAIM_CASE_FILES,
    env: {
      ...baseEnv(Math.max(probeTimeoutMs, 15_000)), // strace slows probes down
      CLONELAB_PROBE_WRAP: JSON.stringify(['sh', '-c', script, 'clonelab-trace']),
      // strace, not the reaper, is the traced probe's parent (native-helpers/clonelab.h, cl_setup)
      CLONELAB_PARENT_CHECK: 'skip',
      CLONELAB_ENVIRONMENT: 'traced',
    },
  });
  const counts = new Map<string, number>();
  const untraced: string[] = [];
  const files = readdirSync(dir);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (f.startsWith('trace.')) straceSyscalls(text, counts);
    else if (f.startsWith('untraced.')) untraced.push(text.trim().replace(`${probeDir}/`, ''));
  }
  if (!files.some((f) => f.startsWith('trace.')))
    throw new Error(`the traced run left no strace output in ${dir}: ${run.noReport ?? lastLines(run.output, 15)}`);
  rmSync(dir, { recursive: true, force: true });
  const syscalls = [...counts]
    .filter(([name]) => table.byName.has(name))
    .map(([name, calls]) => ({ name, nr: table.byName.get(name)!, calls }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const testsNotPassed = (run.report?.tests.list ?? [])
    .filter((t) => t.state !== 'passed')
    .map((t) => `${t.file} > ${t.name}: ${t.state}${t.skipReason ? ` (${t.skipReason.trim()})` : ''}`);
  return {
    seconds: run.seconds,
    syscalls,
    unknown: [...counts.keys()].filter((n) => !table.byName.has(n)),
    untraced: [...new Set(untraced)].sort(),
    testsNotPassed,
  };
}

// ------------------------------------------------------------------ checking a run

/**
 * What became of a claim under a fault:
 * - same: the baseline's verdict, and no clause of the explanation the baseline's lacks (up to numbers:
 *   PIDs differ between runs; the set-aside list evaluate() appends is not compared);
 * - inconclusive: went inconclusive;
 * - explained: another verdict, with an explanation that names the refused syscall and the refusal;
 * - unexplained: another verdict, without naming it (broken);
 * - reworded: the baseline's verdict, and every new clause states the refusal (the errno, or SIGSYS);
 * - finding: the baseline's verdict, an explanation that nowhere names the refused call and its refusal,
 *   and a new clause, while the rule read a test that failed here and passed in the baseline. The rules
 *   only read complete observations, so this is what the world under the fault did, contradicting
 *   documented Linux (glibc's exit() falls back to the exit syscall when exit_group is refused, and
 *   ends only the calling thread) -- or a probe that did not notice its own failed call (a refused
 *   umask(2) read as "fs not shared"). Not a broken invariant, but listed with its clauses to be read.
 * - varies: the same, but every test the rule read passed (a note: wording that moves between healthy
 *   runs too, e.g. a task's state letter);
 * - missing: the claim is not in the report (broken).
 */
type CellChange = 'same' | 'inconclusive' | 'explained' | 'unexplained' | 'reworded' | 'finding' | 'varies' | 'missing';

interface Cell {
  claim: string;
  baseline: Verdict;
  verdict?: Verdict;
  change: CellChange;
  explanation?: string;
  /** An unobserved value found in the explanation. */
  placeholder?: string;
}

type BreakKind = 'no-report' | 'crashed' | 'left-running' | 'rule-threw' | 'placeholder' | 'unexplained' | 'missing';

interface Break {
  kind: BreakKind;
  claim?: string;
  /** One line: what broke. */
  what: string;
  /** The explanation or output that shows it. */
  detail?: string;
}

interface Outcome {
  id: string;
  fault?: Fault;
  seconds: number;
  exitCode?: number;
  signal?: string;
  tests?: { passed: number; failed: number; skipped: number };
  broken: Break[];
  notes: string[];
  cells: Cell[];
  report?: string;
}

const hasWord = (text: string, w: string, flags = '') => new RegExp(`(?<![A-Za-z0-9_])${w}(?![A-Za-z0-9_])`, flags).test(text);

/** Does this text state the refusal: the errno, or the SIGSYS (or "killed") of a killed thread? */
function statesRefusal(text: string, f: Fault): boolean {
  return f.action === 'KILL_THREAD' ? hasWord(text, 'SIGSYS') || hasWord(text, 'killed', 'i') : hasWord(text, f.action);
}

/** Does this explanation name the refused call: its name, and the refusal? */
function namesRefusal(explanation: string, f: Fault): boolean {
  return hasWord(explanation, f.syscall) && statesRefusal(explanation, f);
}

const refusal = (f: Fault) => `${f.syscall} ${f.action === 'KILL_THREAD' ? 'killing its thread (SIGSYS)' : `refused with ${f.action}`}`;
/** PIDs, TIDs, tick counts differ from run to run: the text around them is what must not. */
const shape = (explanation: string) =>
  explanation
    .replace(/\d+/g, '#')
    // A list of numbers, or of the APIs a matrix went through, is one slot: under a fault it is shorter.
    .replace(/#(?:(?:,| and|, and) #)+/g, '#')
    .replace(/\bclone3?(?:(?:,| and) clone3?)*\b/g, 'API');

/** evaluate() appends the set-aside observations and their reasons after this (helpers/claims/index.ts). */
const SET_ASIDE = ' Not used, because not completely observed:';

/** The clauses (sentences, and the parts of a list between semicolons) of a rule's own text. */
const clauses = (explanation: string) =>
  explanation
    .split(SET_ASIDE)[0]!
    .split(/(?<=[.;])\s+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** Clauses of `text` the baseline's explanation does not have (up to numbers). */
function newClauses(text: string, baselineText: string): string[] {
  const known = new Set(clauses(baselineText).map(shape));
  return clauses(text).filter((x) => !known.has(shape(x)));
}

/** What a run proves or breaks, against the baseline report (none when checking the baseline itself). */
function check(id: string, run: NestedSuiteRun<ClaimsReport>, baseline: ClaimsReport | undefined, fault: Fault | undefined, report: string): Outcome {
  const o: Outcome = {
    id,
    ...(fault ? { fault } : {}),
    seconds: run.seconds,
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
    broken: [],
    notes: [],
    cells: [],
  };
  if (run.leftovers.length)
    o.broken.push({
      kind: 'left-running',
      what: `left running after the run: ${run.leftovers.map((l) => l.replace('clonelab-reaper: leftover ', '')).join(', ')}`,
    });
  const r = run.report;
  if (!r) {
    const why = run.output.split('\n').find((l) => /^(\w*Error|ProbeFailure)\b.*:/.test(l.trim()));
    o.broken.push({ kind: 'no-report', what: `no report was written${why ? `: ${why.trim()}` : ''}`, detail: run.noReport });
    return o;
  }
  o.report = report;
  o.tests = { passed: r.tests.passed, failed: r.tests.failed, skipped: r.tests.skipped };
  if (run.signal || (run.exitCode !== 0 && run.exitCode !== 1))
    o.broken.push({
      kind: 'crashed',
      what: `the run ended ${run.signal ? `by ${run.signal}` : `with exit status ${run.exitCode}`}`,
      detail: lastLines(run.output, 10),
    });
  if (r.run.reason === 'interrupted') o.broken.push({ kind: 'crashed', what: 'the run was interrupted' });
  for (const e of r.run.unhandledErrors) o.broken.push({ kind: 'crashed', what: `error outside any test: ${e.split('\n')[0]}`, detail: e });
  const failedHere = new Set(r.tests.list.filter((t) => t.state === 'failed').map((t) => `${t.file}\0${t.name}`));
  const failedInBaseline = new Set(baseline?.tests.list.filter((t) => t.state === 'failed').map((t) => `${t.file}\0${t.name}`) ?? []);
  const failedOnlyHere = (test: string) =>
    r.tests.list.some((t) => t.name === test && failedHere.has(`${t.file}\0${t.name}`) && !failedInBaseline.has(`${t.file}\0${t.name}`));
  /** The observations a rule read whose test failed here and passed in the baseline. */
  const readFailed = (c: ClaimsReport['claims'][number]) => c.observations.filter((ref) => failedOnlyHere(ref.test));
  for (const c of r.claims) {
    if (c.broken) o.broken.push({ kind: 'rule-threw', claim: c.id, what: `its rule threw: ${c.broken.split('\n')[0]}`, detail: c.broken });
    // Only the rule's own words: the reasons quoted for set-aside observations are evidence of the
    // failure (a probe's invalid line, its -1 included), not values the rule states as observed.
    const placeholder = findPlaceholder(c.setAside.reduce((text, x) => text.split(x.reason).join('…'), c.explanation));
    if (placeholder)
      o.broken.push({ kind: 'placeholder', claim: c.id, what: `the explanation holds an unobserved value '${placeholder}'`, detail: c.explanation });
    const b = baseline?.claims.find((x) => x.id === c.id);
    const base = b?.verdict ?? c.verdict;
    let change: CellChange = 'same';
    if (fault && b) {
      const named = namesRefusal(c.explanation, fault);
      if (c.verdict !== base) {
        change = c.verdict === 'inconclusive' ? 'inconclusive' : named ? 'explained' : 'unexplained';
        if (change === 'unexplained')
          o.broken.push({
            kind: 'unexplained',
            claim: c.id,
            what: `${base} -> ${c.verdict}, and the explanation does not name ${refusal(fault)}`,
            detail: c.explanation,
          });
      } else {
        // A new clause that states the errno reports a refusal, even in the suite's own word for the call
        // ("pidfd-thread failed with EPERM" under pidfd_open): only clauses with no refusal at all count.
        // And where the explanation as a whole names the refused call and the refusal (often in the reasons
        // evaluate() appends for set-aside observations), its new clauses are the narrower scope that follows.
        const unnamed = named ? [] : newClauses(c.explanation, b.explanation).filter((x) => !statesRefusal(x, fault));
        const anyNew = newClauses(c.explanation, b.explanation).length > 0;
        const readFromFailed = readFailed(c);
        change = unnamed.length ? (readFromFailed.length ? 'finding' : 'varies') : anyNew ? 'reworded' : 'same';
        if (change === 'finding') {
          o.notes.push(
            `FINDING ${c.id}: kept ${c.verdict} with other evidence and no word of ${refusal(fault)}: "${unnamed.join(' … ')}" ` +
              `(read from ${readFromFailed.map((x) => x.id).join(', ')}: complete, but its test failed here and passed in the baseline; read it: what the world under the fault did, or a probe that missed its own failed call)`,
          );
        }
      }
    }
    if (fault && change === 'same') {
      const readFromFailed = readFailed(c);
      if (readFromFailed.length)
        o.notes.push(
          `${c.id} read ${readFromFailed.map((x) => x.id).join(', ')}, whose test failed here, and said the same as in the baseline (does it read the field that failed?)`,
        );
    }
    o.cells.push({
      claim: c.id,
      baseline: base,
      verdict: c.verdict,
      change,
      ...(change !== 'same' || placeholder ? { explanation: c.explanation } : {}),
      ...(placeholder ? { placeholder } : {}),
    });
  }
  for (const c of CLAIMS.filter((x) => !r.claims.some((y) => y.id === x.id))) {
    o.broken.push({ kind: 'missing', claim: c.id, what: 'missing from the report' });
    o.cells.push({ claim: c.id, baseline: baseline?.claims.find((x) => x.id === c.id)?.verdict ?? 'inconclusive', change: 'missing' });
  }
  if (fault && r.tests.failed === 0 && o.cells.every((c) => c.change === 'same'))
    o.notes.push(`no test failed and no verdict moved: the claim cases did not need ${fault.syscall} to succeed`);
  return o;
}

/** The same break (kind, claim, what up to numbers) across runs, once, with the runs it happened in. */
function groupBreaks(outcomes: Outcome[]): { b: Break; runs: string[] }[] {
  const groups = new Map<string, { b: Break; runs: string[] }>();
  for (const o of outcomes) {
    for (const b of o.broken) {
      const key = `${b.kind}\0${b.claim ?? ''}\0${shape(b.what.replace(new RegExp(`\\b${o.fault?.syscall ?? '\0'}\\b`, 'g'), 'SYSCALL'))}`;
      const g = groups.get(key);
      if (g) g.runs.push(o.id);
      else groups.set(key, { b, runs: [o.id] });
    }
  }
  return [...groups.values()];
}

// ------------------------------------------------------------------ output

const CELL_MARKDOWN: Record<CellChange, (c: Cell) => string> = {
  same: () => '·',
  inconclusive: () => '**inc**',
  explained: (c) => `**${c.verdict}**`,
  unexplained: (c) => `**${c.verdict} ✗**`,
  reworded: () => '~',
  finding: () => '**! text**',
  varies: () => '·~',
  missing: () => '**missing ✗**',
};

function renderMarkdown(outcomes: Outcome[], baseline: Outcome, traced: TracedList | undefined, summary: string): string {
  const ids = CLAIMS.map((c) => c.id);
  const mark = (c: Cell | undefined) => (c ? `${CELL_MARKDOWN[c.change](c)}${c.placeholder ? ' ⚠' : ''}` : '-');
  const status = (o: Outcome) => (o.broken.length ? `**${o.broken.length} broken**` : 'ok');
  const tests = (o: Outcome) => (o.tests ? `${o.tests.passed}/${o.tests.failed}/${o.tests.skipped}` : 'no report');
  const lines = [
    '# clonelab under faults',
    '',
    `Host: ${environment().kernelRelease}, ${environment().arch}. Each row ran the claim cases (${CLAIM_CASE_FILES.map((f) => f.replace(/^cases\/|\.test\.ts$/g, '')).join(', ')}) with one syscall of the probes refused by a seccomp filter (native-helpers/fault.c); the invariants are stated in scripts/check-faults.ts.`,
    '',
    summary,
    '',
    'Cells: `·` the baseline verdict and evidence; **inc** went inconclusive; **verdict**: changed, and the explanation names the refused syscall and its errno (or SIGSYS); ' +
      '**verdict ✗**: changed without naming it; `~` same verdict, other evidence, naming the refusal; **! text**: same verdict, other evidence from a complete observation whose test failed under the fault, not naming it (a finding to read: see the notes); ' +
      '`·~` same verdict, wording moved with passing tests only; ⚠ the explanation holds an unobserved value. ✗ and ⚠ are broken invariants. Tests: passed/failed/skipped.',
    '',
    `| fault | invariants | tests | s | ${ids.join(' | ')} |`,
    `|---|---|---|---|${ids.map(() => '---').join('|')}|`,
    `| baseline | ${status(baseline)} | ${tests(baseline)} | ${baseline.seconds.toFixed(0)} | ${ids
      .map((id) => {
        const c = baseline.cells.find((x) => x.claim === id);
        return c ? `${c.verdict}${c.placeholder ? ' ⚠' : ''}` : '-';
      })
      .join(' | ')} |`,
    ...outcomes.map(
      (o) => `| ${o.id} | ${status(o)} | ${tests(o)} | ${o.seconds.toFixed(0)} | ${ids.map((id) => mark(o.cells.find((c) => c.claim === id))).join(' | ')} |`,
    ),
    '',
  ];
  const groups = groupBreaks([baseline, ...outcomes]);
  if (groups.length) {
    lines.push('## Broken invariants', '', 'Each once, with the runs it broke in, and the text of its first run.', '');
    for (const { b, runs } of groups)
      lines.push(
        `- ${b.claim ? `**${b.claim}** ` : ''}${b.what.replace(/\n/g, ' ')} — in ${runs.join(', ')}${b.detail ? `\n  > ${b.detail.replace(/\n/g, ' ').slice(0, 1500)}` : ''}`,
      );
    lines.push('');
  }
  const moved = outcomes.flatMap((o) => o.cells.filter((c) => c.change === 'explained' || c.change === 'reworded').map((c) => ({ o, c })));
  if (moved.length) {
    lines.push('## Evidence that moved, naming the refused syscall', '');
    for (const { o, c } of moved) lines.push(`- **${o.id}** ${c.claim}: ${c.baseline} -> ${c.verdict}: ${(c.explanation ?? '').replace(/\n/g, ' ')}`);
    lines.push('');
  }
  const inconclusive = outcomes.flatMap((o) => o.cells.filter((c) => c.change === 'inconclusive').map((c) => ({ o, c })));
  if (inconclusive.length) {
    lines.push('## Went inconclusive', '');
    const byClaim = new Map<string, string[]>();
    for (const { o, c } of inconclusive) byClaim.set(c.claim, [...(byClaim.get(c.claim) ?? []), o.id]);
    for (const [claim, runs] of byClaim) lines.push(`- ${claim}: under ${runs.join(', ')}`);
    lines.push('');
  }
  const notes = [baseline, ...outcomes].filter((o) => o.notes.length);
  if (notes.length) {
    lines.push('## Notes', '');
    for (const o of notes) for (const n of o.notes) lines.push(`- ${o.id}: ${n}`);
    lines.push('');
  }
  if (traced) {
    lines.push(
      '## The syscalls',
      '',
      `Seen by strace in one traced run of the claim cases (${traced.seconds.toFixed(0)} s): ${traced.syscalls.map((s) => s.name).join(', ')}.`,
      ...(traced.untraced.length ? ['', `Run under a test's own strace, so not traced here: ${traced.untraced.join('; ')}.`] : []),
      '',
    );
  }
  return lines.join('\n');
}

function renderHtml(outcomes: Outcome[], baseline: Outcome, traced: TracedList | undefined, summary: string): string {
  const ids = CLAIMS.map((c) => c.id);
  const style = `<style>
td.same, td.varies { color: var(--muted); text-align: center; }
td.inconclusive { background: rgba(87, 96, 106, .18); }
td.explained, td.reworded { background: rgba(154, 103, 0, .22); }
td.finding { outline: 2px dashed #9a6700; }
td.unexplained, td.missing, td.placeholder { background: rgba(207, 34, 46, .25); outline: 2px solid #cf222e; }
tr.broken th { color: #cf222e; }
</style>`;
  const cell = (c: Cell | undefined) => {
    if (!c) return '<td>-</td>';
    const cls = `${c.change}${c.placeholder ? ' placeholder' : ''}`;
    const title = ` title="${esc(c.explanation ?? c.verdict ?? c.baseline)}"`;
    const text = c.verdict !== c.baseline || c.change === 'missing' ? badge(c.verdict ?? 'missing') : CELL_MARKDOWN[c.change](c).replace(/\*/g, '');
    return `<td class="${cls}"${title}>${text}${c.change === 'unexplained' ? ' ✗' : ''}${c.placeholder ? ' ⚠' : ''}</td>`;
  };
  const row = (o: Outcome, cells: string) =>
    `<tr class="${o.broken.length ? 'broken' : 'ok'}" data-verdict="${o.broken.length ? 'broken' : 'ok'}"><th scope="row">${esc(o.id)}</th><td>${o.broken.length ? `${badge('failed')} ${o.broken.length}` : badge('passed')}</td><td>${o.tests ? `${o.tests.passed}/${o.tests.failed}/${o.tests.skipped}` : 'no report'}</td><td>${o.seconds.toFixed(0)}</td>${cells}</tr>`;
  const groups = groupBreaks([baseline, ...outcomes]);
  const breaks = groups.length
    ? `<ul>${groups.map(({ b, runs }) => `<li>${b.claim ? `<strong>${esc(b.claim)}</strong> ` : ''}${esc(b.what)} <span class="muted">in ${esc(runs.join(', '))}</span>${b.detail ? `<details><summary>text</summary><pre>${esc(b.detail)}</pre></details>` : ''}</li>`).join('\n')}</ul>`
    : '<p>None.</p>';
  const moved = [...outcomes]
    .filter((o) => o.cells.some((c) => c.change !== 'same'))
    .map(
      (o) =>
        `<details><summary>${esc(o.id)}: ${o.cells.filter((c) => c.change !== 'same').length} cells moved</summary><ul>${o.cells
          .filter((c) => c.change !== 'same')
          .map((c) => `<li>${esc(c.claim)} (${esc(c.change)}): ${esc(c.baseline)} → ${badge(c.verdict ?? 'missing')}: ${esc(c.explanation ?? '')}</li>`)
          .join('')}${o.report ? `<li class="muted">report: ${esc(o.report)}</li>` : ''}</ul></details>`,
    )
    .join('\n');
  const body = `${style}<h1>clonelab under faults</h1>
<p>${esc(summary)}</p>
<p class="muted">Each row ran the claim cases with one syscall of the probes refused by a seccomp filter. Cells: · the baseline verdict and evidence (·~ its wording moved with passing tests only); a badge: the verdict moved (grey: went inconclusive; amber: changed, naming the refused syscall; ~ same verdict, other evidence naming it); red outline: a broken invariant (✗ changed without naming it, ⚠ an unobserved value; dashed: "! text", same verdict with other evidence from a complete observation whose test failed, a finding to read). Hover a cell for its explanation. Tests: passed/failed/skipped.</p>
<div class="filters" role="search"><label>Filter faults <input id="q" type="search" placeholder="text in the row"></label><label>Rows <select id="verdict"><option value="">all</option><option>broken</option><option>ok</option></select></label><span id="shown" class="muted" aria-live="polite"></span></div>
<div class="scroll"><table><thead><tr><th scope="col">fault</th><th scope="col">invariants</th><th scope="col">tests</th><th scope="col">s</th>${ids.map((id) => `<th scope="col" title="${esc(CLAIMS.find((c) => c.id === id)?.statement ?? '')}">${esc(id)}</th>`).join('')}</tr></thead><tbody>
${row(
  baseline,
  ids
    .map((id) => {
      const c = baseline.cells.find((x) => x.claim === id);
      return `<td class="${c?.placeholder ? 'placeholder' : ''}" title="${esc(c?.explanation ?? '')}">${badge(c?.verdict ?? 'missing')}${c?.placeholder ? ' ⚠' : ''}</td>`;
    })
    .join(''),
)}
${outcomes.map((o) => row(o, ids.map((id) => cell(o.cells.find((c) => c.claim === id))).join(''))).join('\n')}
</tbody></table></div>
<h2>Broken invariants</h2>
${breaks}
<h2>Cells that moved</h2>
${moved || '<p>None.</p>'}
${traced ? `<h2>The syscalls</h2><p>Seen by strace in one traced run of the claim cases (${traced.seconds.toFixed(0)} s): ${esc(traced.syscalls.map((s) => s.name).join(', '))}.</p>${traced.untraced.length ? `<p class="muted">Run under a test's own strace, so not traced here: ${esc(traced.untraced.join('; '))}.</p>` : ''}` : ''}`;
  return page('clonelab under faults', body);
}

// ------------------------------------------------------------------ main

await runMain(import.meta.url, command, main);

// main() is left unindented so that this change stays apart from the checks' (a formatter indents it).
async function main(o: Options): Promise<number> {
  const opts = { syscalls: o.syscall.flat(), errno: o.errno ?? 'EPERM', kill: o.kill, jobs: o.jobs, probeTimeoutMs: o['probe-timeout'], out: o.out };
  const t0 = Date.now();
  const table = await syscallTable();
  checkSyscallNames(opts.syscalls, table);
  const built = await buildProbes();
  mkdirSync(opts.out, { recursive: true });
  const defaultAction: Action = opts.kill ? 'KILL_THREAD' : opts.errno;
  const mkFault = (name: string, action: Action): Fault => ({ id: `${name}-${action}`, syscall: name, nr: table.byName.get(name)!, action });

  let traced: TracedList | undefined;
  let faults: Fault[];
  if (opts.syscalls.length) {
    faults = opts.syscalls.map((s) => mkFault(s.name, s.action ?? defaultAction));
  } else {
    console.log(`[trace] the claim cases once with every probe under strace -f, to list the syscalls they make`);
    traced = await tracedSyscalls(built.dir, opts.out, table, opts.probeTimeoutMs);
    writeFileAtomic(
      join(opts.out, 'syscalls.json'),
      `${JSON.stringify({ generatedAt: new Date().toISOString(), arch: process.arch, compiler: table.compiler, ...traced }, null, 2)}\n`,
    );
    console.log(`[trace] ${traced.syscalls.length} syscalls in ${traced.seconds.toFixed(0)} s: ${traced.syscalls.map((s) => s.name).join(' ')}`);
    if (traced.untraced.length) console.log(`[trace] not traced (already under a test's own strace): ${traced.untraced.join('; ')}`);
    faults = traced.syscalls.map((s) => mkFault(s.name, defaultAction));
    if (defaultAction !== 'KILL_THREAD')
      faults.push(...KILL_FAULTS.filter((n) => traced!.syscalls.some((s) => s.name === n)).map((n) => mkFault(n, 'KILL_THREAD')));
  }
  faults = faults.filter((f, i) => faults.findIndex((g) => g.id === f.id) === i);
  rmSync(join(opts.out, 'traced-report'), { recursive: true, force: true });

  const runDir = (id: string) => {
    const d = join(opts.out, id);
    rmSync(d, { recursive: true, force: true });
    return d;
  };
  console.log(`[baseline] the claim cases with no fault (probe deadline ${opts.probeTimeoutMs} ms)`);
  const baselineDir = runDir('baseline');
  const baseRun = await runNestedSuite({
    readReport: readClaimsReport,
    probeDir: built.dir,
    reportDir: baselineDir,
    files: CLAIM_CASE_FILES,
    env: { ...baseEnv(opts.probeTimeoutMs), CLONELAB_ENVIRONMENT: 'fault baseline' },
  });
  const baseline = check('baseline', baseRun, undefined, undefined, join(baselineDir, 'claims.json'));
  if (baseline.tests?.failed)
    baseline.notes.push(`${baseline.tests.failed} test(s) failed without a fault: a fault run's changes are measured against a baseline that is not healthy`);
  console.log(
    `[baseline] ${baseline.broken.length ? `${baseline.broken.length} BROKEN` : 'ok'} in ${baseline.seconds.toFixed(0)} s${baseline.tests ? `: ${baseline.tests.passed} passed, ${baseline.tests.failed} failed, ${baseline.tests.skipped} skipped` : ''}`,
  );
  for (const b of baseline.broken) console.log(`[baseline]   BROKEN ${b.claim ? `${b.claim}: ` : ''}${b.what}`);
  for (const n of baseline.notes) console.log(`[baseline]   note: ${n}`);
  if (!baseRun.report) fail('the baseline run wrote no report, so there is nothing to compare the faults with');

  console.log(`[faults] ${faults.length} faults, ${opts.jobs} at a time: ${faults.map((f) => f.id).join(' ')}`);
  const outcomes = new Array<Outcome>(faults.length);
  let next = 0;
  const tMatrix = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(opts.jobs, faults.length) }, async () => {
      while (next < faults.length) {
        const k = next++;
        const f = faults[k]!;
        const dir = runDir(f.id);
        const run = await runNestedSuite({
          readReport: readClaimsReport,
          probeDir: built.dir,
          reportDir: dir,
          files: CLAIM_CASE_FILES,
          env: { ...baseEnv(opts.probeTimeoutMs), CLONELAB_PROBE_WRAP: JSON.stringify(faultWrap(f)), CLONELAB_ENVIRONMENT: `fault ${f.id}` },
        });
        const o = check(f.id, run, baseRun.report, f, join(dir, 'claims.json'));
        outcomes[k] = o;
        const moved = o.cells.filter((c) => c.change !== 'same' && c.change !== 'varies');
        console.log(
          `[${f.id}] ${o.broken.length ? `${o.broken.length} BROKEN` : 'ok'} in ${o.seconds.toFixed(0)} s${o.tests ? `: tests ${o.tests.passed} passed, ${o.tests.failed} failed, ${o.tests.skipped} skipped` : ''}${moved.length ? `; moved: ${moved.map((c) => `${c.claim} ${c.verdict === c.baseline ? c.change : `${c.baseline}->${c.verdict ?? 'missing'}`}`).join(', ')}` : ''}`,
        );
        for (const b of o.broken) console.log(`[${f.id}]   BROKEN ${b.claim ? `${b.claim}: ` : ''}${b.what}`);
      }
    }),
  );
  const matrixSeconds = (Date.now() - tMatrix) / 1000;

  // Every run was under its own reaper; this catches anything that escaped all of them.
  const escaped = leftoverProbeTasks(built.dir, { ancestor: process.pid, kill: true });
  if (escaped.length)
    baseline.broken.push({
      kind: 'left-running',
      what: `probe tasks still running after all runs (killed now): ${escaped.map((t) => `${t.pid} ${t.exe}`).join(', ')}`,
    });

  const all = [baseline, ...outcomes];
  const brokenCount = all.reduce((n, o) => n + o.broken.length, 0);
  const cells = outcomes.flatMap((o) => o.cells);
  const wentInconclusive = cells.filter((c) => c.change === 'inconclusive');
  const changed = cells.filter((c) => c.change === 'explained' || c.change === 'unexplained');
  const findings = cells.filter((c) => c.change === 'finding');
  const totalSeconds = (Date.now() - t0) / 1000;
  const inconclusiveClaims = [...new Set(wentInconclusive.map((c) => c.claim))];
  const summary =
    `check:faults: ${faults.length} faults tried, ${brokenCount} invariants broken (in ${all.filter((o) => o.broken.length).length} of ${all.length} runs, baseline included), ` +
    `${changed.length} verdicts changed (${changed.filter((c) => c.change === 'unexplained').length} without naming the refused syscall), ${findings.length} kept with other evidence to read (findings), ` +
    `${wentInconclusive.length} went inconclusive (${inconclusiveClaims.length} claims${inconclusiveClaims.length ? `: ${inconclusiveClaims.join(' ')}` : ''}); ` +
    `${traced ? `trace ${traced.seconds.toFixed(0)} s, ` : ''}baseline ${baseline.seconds.toFixed(0)} s, faults ${matrixSeconds.toFixed(0)} s with -j ${opts.jobs}, total ${totalSeconds.toFixed(0)} s`;

  writeFileAtomic(
    join(opts.out, 'faults.json'),
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        kernelRelease: environment().kernelRelease,
        arch: process.arch,
        caseFiles: CLAIM_CASE_FILES,
        probeTimeoutMs: opts.probeTimeoutMs,
        jobs: opts.jobs,
        seconds: { trace: traced?.seconds, baseline: baseline.seconds, faults: matrixSeconds, total: totalSeconds },
        summary,
        traced,
        baseline,
        faults: outcomes,
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(join(opts.out, 'faults.md'), renderMarkdown(outcomes, baseline, traced, summary));
  writeFileAtomic(join(opts.out, 'faults.html'), renderHtml(outcomes, baseline, traced, summary));
  console.log(`wrote ${relative(process.cwd(), join(opts.out, 'faults.md'))}, faults.json and faults.html`);
  console.log(summary);
  return brokenCount ? 1 : 0;
}
