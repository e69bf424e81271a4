/**
 * The clone family's reading of the sharing matrix and of the flag-rule rows
 * (cloneMatrix, cloneRules: helpers/claims/clone.ts declares the kinds), apart
 * from the rules of A5, A9, A10, A14, B2, B3, B4, C2 and C5 that use it, and
 * from B1 (helpers/claims/thread-group.ts): every row with its API, which
 * resource each flag decides, and which refusals are the kernel's flag rules
 * (EINVAL) and which the environment's.
 */
import { Inconclusive, nonEmpty, type ObservationIndex } from './rule.js';
import { list } from './prose.js';

/** One child of the sharing matrix: accepted or the errno; when accepted, what it shared. */
export interface ShareRow {
  flags: string;
  accepted: boolean;
  /** Why the kernel refused the flag set (only when not accepted). */
  errno?: string;
  /** Resources the parent saw the child's change to (memory, files, fs, sighand, sysvsem). */
  shared?: { memory: boolean; files: boolean; fs: boolean; sighand: boolean; sysvsem: boolean };
  sameTgid?: boolean;
  waitable?: boolean;
  exitSignalToCaller?: boolean;
  parentIsCallersParent?: boolean;
  callerSuspended?: boolean;
  /** clone's return value equalled the child's own gettid(). */
  returnedChildTid?: boolean;
  /** clone's return value equalled the child's own getpid() (in a thread that is the creator's TGID instead). */
  returnedChildGetpid?: boolean;
  /** The parts of one resource disagreed (e.g. the child's open seen, its close not). */
  inconsistent?: string[];
}

/** One flag set tried once: what documented Linux answers, and what this kernel answered ('ok' or the errno). */
export interface CloneRuleRow {
  rule: string;
  api: 'clone' | 'clone3';
  flags: string;
  exitSignal: number;
  expected: string;
  result: string;
}

/** Every row of every sharing matrix run, with its API. */
export function matrixRows(o: ObservationIndex): (ShareRow & { api: string })[] {
  return o.all('cloneMatrix').flatMap((m) => m.result.rows.map((r) => ({ ...r, api: m.result.api })));
}

export const hasFlag = (r: { flags: string }, f: string) => r.flags.split('|').includes(f);
export const apis = (o: ObservationIndex) =>
  o
    .all('cloneMatrix')
    .map((m) => m.result.api)
    .join(' and ');
export const RESOURCES = ['memory', 'files', 'fs', 'sighand', 'sysvsem'] as const;
export type Resource = (typeof RESOURCES)[number];
export const RESOURCE_FLAG = { memory: 'VM', files: 'FILES', fs: 'FS', sighand: 'SIGHAND', sysvsem: 'SYSVSEM' } as const;

/** The errno copy_process() and clone3_args_valid() give a flag set they do not allow. */
export const FLAG_RULE_ERRNO = 'EINVAL';

/** Accepted rows where a resource was shared without its flag, or not shared with it. */
export function flagMismatches(rows: readonly (ShareRow & { api: string })[]): string[] {
  return rows.flatMap((r) => {
    const shared = r.accepted ? r.shared : undefined;
    if (!shared) return [];
    const wrong = RESOURCES.filter((res) => shared[res] !== hasFlag(r, RESOURCE_FLAG[res]));
    return wrong.map((res) => `${r.api} ${r.flags}: ${res} ${shared[res] ? 'shared' : 'not shared'}`);
  });
}

/** Accepted CLONE_THREAD children of the matrix: at least one, or Inconclusive. */
export const threadRows = (o: ObservationIndex) =>
  nonEmpty(
    matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD')),
    'accepted CLONE_THREAD child of the sharing matrix',
  );

/** "EINVAL" or "EINVAL/EPERM": the errnos of refused matrix rows, each once. */
export const errnosOf = (rows: readonly ShareRow[]): string => [...new Set(rows.map((r) => r.errno ?? 'no errno recorded'))].join('/');

/** How many matrix rows were refused, per API: "96 of 256 through clone (EINVAL)". */
export function refusedCount(o: ObservationIndex): string {
  return o
    .all('cloneMatrix')
    .map((m) => {
      const refused = m.result.rows.filter((r) => !r.accepted);
      return `${refused.length} of ${m.result.rows.length} through ${m.result.api}${refused.length ? ` (${errnosOf(refused)})` : ''}`;
    })
    .join(', ');
}

/** The cloneRules rows of these rules, split by what this run observed. */
export interface RuleOutcome {
  /** The kernel refused the flag set with the flag-validation errno. */
  refused: CloneRuleRow[];
  /** The kernel accepted it. */
  accepted: CloneRuleRow[];
  /** Refused with another errno: an environment refusal, not a flag rule. */
  environment: CloneRuleRow[];
}

/** Every cloneRules row (of every complete observation) whose rule is one of `rules` (all when omitted), classified by its observed result. */
export function ruleOutcome(o: ObservationIndex, rules?: readonly string[]): RuleOutcome {
  const rows = o
    .all('cloneRules')
    .flatMap((x) => x.result.rows)
    .filter((r) => !rules || rules.includes(r.rule));
  return {
    refused: rows.filter((r) => r.result === FLAG_RULE_ERRNO),
    accepted: rows.filter((r) => r.result === 'ok'),
    environment: rows.filter((r) => r.result !== 'ok' && r.result !== FLAG_RULE_ERRNO),
  };
}

/** "CLONE_THREAD needs CLONE_SIGHAND (clone: EINVAL, clone3: EINVAL)" per rule. */
export function byRule(rows: CloneRuleRow[]): string[] {
  const m = new Map<string, string[]>();
  // The exit signal only where the rule is about it (legacy clone always carries SIGCHLD in its flags).
  for (const r of rows) {
    const signal = /exit signal/.test(r.rule) ? ` with exit signal ${r.exitSignal}` : '';
    m.set(r.rule, [...(m.get(r.rule) ?? []), `${r.api} ${r.flags}${signal}: ${r.result}`]);
  }
  return [...m].map(([rule, results]) => `${rule} (${results.join(', ')})`);
}

/** The sentence for rows refused by the environment, or ''. */
export function environmentNote(rows: CloneRuleRow[]): string {
  if (!rows.length) return '';
  const why = 'an environment refusal: a seccomp filter, a missing feature or privilege, a pids or memory limit';
  return ` Not judged as flag rules, because refused with an errno other than ${FLAG_RULE_ERRNO} (${why}): ${refusedRows(rows)}.`;
}

/** "clone3(VM|THREAD) EPERM": rule rows with what refused them. */
const refusedRows = (rows: CloneRuleRow[]): string => list(rows.map((r) => `${r.api}(${r.flags}) ${r.result}`));

/** Why the rule rows of a claim were not judged: refused by the environment (which), or none observed. */
export function notJudged(rows: CloneRuleRow[]): string {
  return rows.length ? `refused by the environment (${refusedRows(rows)})` : 'no such cloneRules row was observed';
}

export const EXPECTED_REFUSAL = (r: CloneRuleRow) => r.expected !== 'ok';

/** Rows documented Linux refuses that this kernel accepted, in words. */
export function acceptedAgainstDocs(rows: CloneRuleRow[]): string {
  return list(
    rows.filter(EXPECTED_REFUSAL).map((r) => `${r.api}(${r.flags}) although ${r.rule}`),
    4,
  );
}

/** The THREAD/SIGHAND/VM dependency rules: A5 and B2 read them. */
export const DEPENDENCY_RULES = ['CLONE_THREAD needs CLONE_SIGHAND', 'CLONE_SIGHAND needs CLONE_VM'] as const;
/** A thread cannot leave its creator's PID or user namespace: C5 and A10 read them. */
export const THREAD_NS_RULES = ['CLONE_THREAD cannot go with CLONE_NEWPID', 'CLONE_THREAD cannot go with CLONE_NEWUSER'] as const;

/** copy_process()'s own flag rules over the matrix's flags: CLONE_THREAD needs CLONE_SIGHAND, CLONE_SIGHAND needs CLONE_VM. */
export const flagRulesAllow = (r: { flags: string }): boolean =>
  (!hasFlag(r, 'THREAD') || hasFlag(r, 'SIGHAND')) && (!hasFlag(r, 'SIGHAND') || hasFlag(r, 'VM'));

/**
 * Flag sets refused with EINVAL although the kernel's flag rules allow them:
 * matrix rows copy_process() accepts, and cloneRules controls documented
 * Linux accepts. Any at all means something between the probe and the kernel
 * refuses more than the kernel does, with the kernel's errno: qemu's
 * user-mode emulator does (linux-user/syscall.c, do_fork(): a CLONE_VM set
 * other than all of CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM, or a set without
 * CLONE_VM carrying any sharing or namespace flag, gets -TARGET_EINVAL
 * before any host clone is made), so in that run an EINVAL cannot be told
 * from the kernel's flag rules.
 */
export function refusedBeyondFlagRules(o: ObservationIndex): string[] {
  const matrix = matrixRows(o)
    .filter((r) => !r.accepted && r.errno === FLAG_RULE_ERRNO && flagRulesAllow(r))
    .map((r) => `${r.api} ${r.flags}`);
  const controls = o
    .all('cloneRules')
    .flatMap((x) => x.result.rows)
    .filter((r) => r.expected === 'ok' && r.result === FLAG_RULE_ERRNO)
    .map((r) => `${r.api}(${r.flags})`);
  return [...matrix, ...controls];
}

/** " The probes ran under X: ..." for an explanation, or '' when they ran directly. */
export function wrapperNote(wrapper: string | null): string {
  return wrapper ? ` The probes ran under the wrapper ${wrapper}, which answers the calls it emulates in the kernel's place.` : '';
}

/**
 * Throws Inconclusive when this run's EINVAL refusals cannot be the kernel's
 * flag rules (refusedBeyondFlagRules): the claims that read refusals as what
 * Linux allows (A5, A10, A14, B2, B4, C5) are then not judged on them, with
 * the refusals named and the wrapper, if any. Inconclusive rather than
 * refuted or nuanced: under an emulator the kernel never saw these flag sets
 * (qemu's do_fork() returns before its host clone), so nothing was observed
 * of what Linux allows; the accepted rows still count where a rule reads them
 * first (a thread whose sharing did not follow its flags refutes all the same).
 */
export function refusalsMustBeTheKernels(o: ObservationIndex, wrapper: string | null, what: string): void {
  const beyond = refusedBeyondFlagRules(o);
  if (!beyond.length) return;
  const by = wrapper ? `the wrapper ${wrapper}` : 'something between the probe and the kernel';
  throw new Inconclusive(
    `${what} was not judged: ${beyond.length} flag ${beyond.length === 1 ? 'set' : 'sets'} the kernel's flag rules allow ${beyond.length === 1 ? 'was' : 'were'} refused with ${FLAG_RULE_ERRNO} (${list(beyond, 4)}), so ${by} refuses more than the kernel, with the kernel's errno, and no ${FLAG_RULE_ERRNO} of this run can be read as the kernel's flag rule.`,
    `${by} refused flag sets the kernel allows (${beyond[0]}), so its ${FLAG_RULE_ERRNO}s are not the kernel's flag rules`,
  );
}
