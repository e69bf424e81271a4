/**
 * What changed between columns of a matrix at the level of observations: for
 * each claim, the facts (result leaves) of the observations its rule read
 * that differ between kernels or environments. A verdict can stay the same
 * while the kernel answers differently underneath (pidfd_open(2) on a
 * non-leader without PIDFD_THREAD is EINVAL before 6.9 and ENOENT since;
 * /proc/PID/status has no "Kthread:" line before 6.x), and the matrix must
 * say so rather than "0 claims differ".
 *
 * Only what is the same on every healthy run of one kernel can be compared.
 * Two kinds of values are not (found by comparing two host runs of the same
 * kernel leaf by leaf: cases/tooling/matrix-diff.test.ts keeps that check):
 * - task IDs (PIDs, TIDs, TGIDs and the /proc paths and status lines built on
 *   them): new on every run. They are not dropped but renamed, per
 *   observation, to tokens `#1`, `#2`... in the order they first appear, so
 *   that "the TID is the TGID" stays comparable while the number does not;
 * - times, CPU ticks and counts of whatever else the system runs (kernel
 *   threads, /proc entries): ignored.
 * Evidence (raw probe records and /proc text) is not compared: the result is
 * what the rules read, and the evidence repeats it with the IDs in free text.
 */
import type { ClaimsReport, ReportObservation } from './claims-report.js';

/** One fact that is not the same in every column with a report: its value by column label, absent where the column has no such leaf. */
export interface FactDifference {
  /** The observation's id in the reports (kind/variant). */
  observation: string;
  /** The leaf: dotted keys; array items named by their label field ([method=pidfd-thread]), set members in braces ({Kthread}). */
  path: string;
  /** Its value in each column that has it, by column label (JSON text, IDs as #n tokens; "present" for a set member). */
  values: Record<string, string>;
}

/**
 * Fields that hold task IDs, by name (the probes' and tests' names: helpers/claims/<family>.ts).
 * An array or object under such a field holds IDs throughout.
 */
const ID_FIELD = /(?:pid|tid|tgid)s?$/i;
const ID_FIELDS = new Set([
  'members', // exitScope, fatalSignal: the group's TIDs
  'ended',
  'remaining',
  'actor',
  'target',
  'to', // signalLanding sends
  'unblockedIn',
  'changedIn',
  'asked',
  'threadTidsShown', // psView: the TIDs a ps view listed
  'taskDir', // the names of /proc/PID/task/
  'taskDirViaTid',
  'outerListed',
  'made', // libcCreation: what fork(2) returned
  'returned',
  'disagreements', // kernelThreads: PIDs whose "Kthread:" line disagrees with PF_KTHREAD
  'multiTask',
  'tgidDiffers',
  'args', // psView: the ps command line, which names the TGID
]);

/** IDs up to this are kept as they are: 1 is a PID namespace's init, 2 kthreadd, 3 a namespace's second task; all are the same on every run. */
const LITERAL_ID_MAX = 3;

/**
 * Values that differ on every run, whatever the kernel: times (names ending
 * ms, us, ns or ending Ms, Us, Ns), CPU ticks, and command names (a kworker's comm names the work
 * it is doing at that moment: kworker/1:2-events).
 */
const VOLATILE_FIELD = /(?:Ms|Us|Ns)$|^(?:ms|us|ns|utime|stime|cpuTicks|comm)$/;

/**
 * Per kind, the leaves (dotted paths, array indices dropped) that depend on
 * the moment, not the kernel: counts of what else the system runs (kernel
 * threads, /proc entries, tasks scanned) and whether a busy worker was
 * running or sleeping when its stat was read (schedPerTask, the threads left
 * after the leader's exit in leaderExitFirst).
 */
const RUN_DEPENDENT: Record<string, string[]> = {
  kernelThreads: [
    'count',
    'vanished',
    'childrenOfKthreadd',
    'tgidEqualsPid',
    'singleTask',
    'noVmSize',
    'maps.empty',
    'maps.nonEmpty',
    'exe.readable',
    'exe.unreadable',
    'states',
    'policies',
  ],
  procListing: ['procEntries'],
  procListingScan: ['entries', 'checked', 'tgidEqualsPid', 'vanished'],
  singleThreadProcess: ['search.processes', 'search.tasksRead'],
  schedPerTask: ['tasks.state'],
  leaderExitFirst: ['survivors.state'],
};

/** Fields that name an item of an array of objects, in order of preference (cloneMatrix rows by flags, signalLanding sends by method...). */
const LABEL_FIELDS = ['flags', 'rule', 'method', 'role', 'kind', 'uid'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Whether the leaf or subtree at `names` (field names joined by dots, no indices) is left out; `last` is its own field name. */
function ignored(kind: string, names: string, last: string): boolean {
  if (VOLATILE_FIELD.test(last)) return true;
  return (RUN_DEPENDENT[kind] ?? []).some((p) => names === p || names.startsWith(`${p}.`));
}

const isIdField = (name: string | undefined) => name !== undefined && (ID_FIELD.test(name) || ID_FIELDS.has(name));

/**
 * The leaves of one complete observation's result, IDs renamed: path → value
 * (none for an incomplete one). The tables above match `names`, the path of
 * field names without array indices.
 */
export function observationFacts(o: ReportObservation): Map<string, string> {
  let facts = factsCache.get(o);
  if (!facts) factsCache.set(o, (facts = leaves(o)));
  return facts;
}

/** Facts by observation: several claims read the same observation (cloneMatrix, threadGroupIds). */
const factsCache = new WeakMap<ReportObservation, Map<string, string>>();

function leaves(o: ReportObservation): Map<string, string> {
  if (!o.complete) return new Map();
  const tokens = new Map<number, string>();
  const token = (n: number) => {
    if (n <= LITERAL_ID_MAX) return String(n);
    let t = tokens.get(n);
    if (!t) tokens.set(n, (t = `#${tokens.size + 1}`));
    return t;
  };
  // Pass 1: every ID, in the order the result lists them, so that one TID gets one token wherever it appears.
  const collect = (v: Json, names: string, last: string, inId: boolean) => {
    if (ignored(o.kind, names, last)) return;
    if (typeof v === 'number' && inId && Number.isInteger(v)) token(v);
    else if (typeof v === 'string' && inId) for (const m of v.matchAll(/\d+/g)) token(Number(m[0]));
    else if (Array.isArray(v)) v.forEach((x) => collect(x, names, last, inId));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, names ? `${names}.${k}` : k, k, inId || isIdField(k));
  };
  const result = (o as { result: Json }).result;
  collect(result, '', '', false);
  // Pass 2: IDs inside any text (/proc/PID paths, status lines) become their tokens too.
  const known = [...tokens.keys()].sort((a, b) => b - a);
  const idPattern = known.length ? new RegExp(`\\b(?:${known.join('|')})\\b`, 'g') : undefined;
  const text = (s: string, inId: boolean) =>
    inId ? s.replace(/\d+/g, (d) => token(Number(d))) : idPattern ? s.replace(idPattern, (d) => tokens.get(Number(d))!) : s;
  const out = new Map<string, string>();
  const walk = (v: Json, path: string, names: string, last: string, inId: boolean) => {
    if (ignored(o.kind, names, last)) return;
    if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) {
        // A list of plain values is read as a set: a member that appears or vanishes is the fact.
        if (!v.length) out.set(path, '[]');
        for (const x of v) out.set(`${path}{${typeof x === 'number' && inId ? token(x) : typeof x === 'string' ? text(x, inId) : String(x)}}`, 'present');
        return;
      }
      const seen = new Map<string, number>();
      v.forEach((x, i) => {
        let key = String(i);
        const item = x && typeof x === 'object' && !Array.isArray(x) ? x : undefined;
        const field = item && LABEL_FIELDS.find((f) => typeof item[f] === 'string' || typeof item[f] === 'number');
        if (item && field) {
          const label = `${field}=${item[field] as string | number}`;
          const n = (seen.get(label) ?? 0) + 1;
          seen.set(label, n);
          key = n > 1 ? `${label}#${n}` : label;
        }
        walk(x, `${path}[${key}]`, names, last, inId);
      });
      return;
    }
    if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      if (!entries.length) out.set(path, '{}');
      for (const [k, x] of entries) walk(x, path ? `${path}.${k}` : k, names ? `${names}.${k}` : k, k, inId || isIdField(k));
      return;
    }
    if (typeof v === 'number' && inId && Number.isInteger(v)) out.set(path, token(v));
    else if (typeof v === 'string') out.set(path, JSON.stringify(text(v, inId)));
    else out.set(path, JSON.stringify(v));
  };
  walk(result, '', '', '', false);
  return out;
}

/** How an observation stands in a column: its facts, or why it has none. */
function standing(o: ReportObservation | undefined): string {
  if (!o) return 'not recorded';
  return o.complete ? 'complete' : `incomplete: ${o.unobserved}`;
}

/**
 * The facts that differ between columns, claim by claim: over the
 * observations a claim's rule read in any column (matched across columns by
 * id, kind/variant), each leaf whose value is not the same in every column.
 * An observation that one column did not record, or recorded incomplete, is
 * one fact ("(observation)"), not one per leaf. `reports` are the columns
 * with a report, by label; fewer than two compare nothing. Each observation
 * is compared once, however many claims read it.
 */
export function factDifferences(reports: [label: string, report: ClaimsReport][]): (claimId: string) => FactDifference[] {
  const byId = reports.map(([label, r]) => [label, new Map(r.observations.map((o) => [o.id, o]))] as const);
  const memo = new Map<string, FactDifference[]>();
  const ofObservation = (id: string): FactDifference[] => {
    const found = byId.map(([label, m]) => [label, m.get(id)] as const);
    const stand = Object.fromEntries(found.map(([label, o]) => [label, standing(o)]));
    // Its leaves are compared only where every column observed it to the end.
    if (new Set(Object.values(stand)).size > 1) return [{ observation: id, path: '(observation)', values: stand }];
    if (!found[0]![1]?.complete) return [];
    const facts = found.map(([label, o]) => [label, observationFacts(o!)] as const);
    const paths = new Set<string>();
    for (const [, f] of facts) for (const [path, value] of f) if (facts.some(([, g]) => g.get(path) !== value)) paths.add(path);
    return [...paths].map((path) => ({
      observation: id,
      path,
      values: Object.fromEntries(facts.flatMap(([label, f]) => (f.has(path) ? [[label, f.get(path)!]] : []))),
    }));
  };
  return (claimId) => {
    if (reports.length < 2) return [];
    const ids = [...new Set(reports.flatMap(([, r]) => r.claims.find((c) => c.id === claimId)?.observations.map((o) => o.id) ?? []))];
    return ids.flatMap((id) => {
      let d = memo.get(id);
      if (!d) memo.set(id, (d = ofObservation(id)));
      return d;
    });
  };
}

/** The facts that differ between columns for one claim (factDifferences, for one claim). */
export const claimFactDifferences = (claimId: string, reports: [label: string, report: ClaimsReport][]): FactDifference[] => factDifferences(reports)(claimId);

/** Facts shown as one row: the same leaf, changed the same way, in several variants of one kind (threadGroupIds pthread x1, x4, x64...). */
export interface FactRow {
  /** The kind and its variants: "threadGroupIds/pthread x1, pthread x4". */
  observations: string;
  path: string;
  values: Record<string, string>;
}

/** A claim's facts as rows for the pages, in order of first appearance, variants with the same change folded into one row. */
export function factRows(facts: readonly FactDifference[]): FactRow[] {
  const rows = new Map<string, { kind: string; variants: string[]; path: string; values: Record<string, string> }>();
  for (const f of facts) {
    const slash = f.observation.indexOf('/');
    const kind = slash < 0 ? f.observation : f.observation.slice(0, slash);
    const key = JSON.stringify([kind, f.path, Object.entries(f.values)]);
    const row = rows.get(key);
    if (row) row.variants.push(f.observation.slice(slash + 1));
    else rows.set(key, { kind, variants: [f.observation.slice(slash + 1)], path: f.path, values: f.values });
  }
  return [...rows.values()].map((r) => ({ observations: `${r.kind}/${r.variants.join(', ')}`, path: r.path, values: r.values }));
}

/** A fact's value in a column, for the pages: absent where that column has no such leaf. */
export const factValue = (f: { values: Record<string, string> }, label: string): string => f.values[label] ?? 'absent';
