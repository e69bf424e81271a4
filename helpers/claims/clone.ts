/**
 * The clone claim family: what cases/claims/clone.test.ts observes, and the rules
 * of A5, A9, A10, A14, B2, B3, B4, C2, C5 over it.
 *
 * Every clause a rule prints comes from a row it read: which flag sets the
 * kernel refused is read from the matrix and the cloneRules rows, and a rule
 * row counts as a kernel flag rule only when its observed result is the
 * flag-validation errno (EINVAL, kernel/fork.c: copy_process() and
 * clone3_args_valid()). A row refused with another errno (EPERM or ENOSYS
 * from a seccomp filter, EAGAIN from a pids limit, ENOMEM) is an environment
 * refusal: set aside, named with its API and errno, never "the kernel refused".
 *
 * How the rows are read (APIs, flags, flag rules) is helpers/claims/clone-matrix.ts;
 * how strace's log of a libc call becomes libcCreation, helpers/claims/clone-trace.ts.
 */
import { Inconclusive, libcOfRun, nonEmpty, present, type Claim, type Decision, type EvidenceOnly } from './rule.js';
import { list, oneLine, plural } from './prose.js';
import {
  acceptedAgainstDocs,
  apis,
  byRule,
  DEPENDENCY_RULES,
  environmentNote,
  errnosOf,
  EXPECTED_REFUSAL,
  FLAG_RULE_ERRNO,
  flagMismatches,
  hasFlag,
  matrixRows,
  notJudged,
  RESOURCE_FLAG,
  RESOURCES,
  refusedCount,
  refusalsMustBeTheKernels,
  ruleOutcome,
  THREAD_NS_RULES,
  threadRows,
  wrapperNote,
  type CloneRuleRow,
  type Resource,
  type ShareRow,
} from './clone-matrix.js';

export { FLAG_RULE_ERRNO, type CloneRuleRow, type ShareRow } from './clone-matrix.js';

export interface CloneObservations {
  /** All 256 combinations of the eight sharing flags through one API, one probe process. */
  cloneMatrix: { api: 'clone' | 'clone3'; rows: ShareRow[]; probeMs: number; perComboUs: number };
  /** A child made with one CLONE_NEW* flag: which namespace inodes differ from the creator's. */
  cloneNamespaces: { flag: string; withUserns: boolean; accepted: boolean; differ: string[]; same: string[] };
  /** What the kernel wrote for CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID and CLONE_PIDFD (each field only with its flag). */
  cloneIdsWritten: {
    api: 'clone' | 'clone3';
    flags: string;
    /** The child's own gettid(). */
    childTid: number;
    /** CLONE_PARENT_SETTID: what the kernel stored at parent_tid. */
    parentTid?: number;
    /** CLONE_CHILD_CLEARTID: the kernel zeroed child_tid when the child exited. */
    childTidCleared?: boolean;
    /** CLONE_PIDFD: the pidfd the kernel returned. */
    pidfd?: number;
    /** CLONE_PIDFD: the PID its fdinfo named (absent once the child was reaped: see pidfdSaysExited). */
    pidfdPid?: number;
    /** CLONE_PIDFD: fdinfo said "Pid: -1", the task has exited (kernel/pid.c, pidfd_show_fdinfo()). */
    pidfdSaysExited?: boolean;
  };
  /** Flag sets documented Linux refuses (and controls it accepts), each tried through one API. */
  cloneRules: { rows: CloneRuleRow[] };
  /** Which system call (and flags) a libc function used to make a task, seen by strace (read by helpers/claims/clone-trace.ts). */
  libcCreation: {
    call: string;
    /** The creating system call that succeeded (the only one strace showed). */
    syscall: string;
    /** Its flags as strace printed them; absent for a call that takes none (vfork). */
    flags?: string;
    /** What that system call returned in the caller. */
    returned: number;
    /** The ID the probe reported for the task the libc call made (pthread_create: the thread's gettid()). */
    made: number;
    /** Creating calls that failed first (e.g. "clone3: ENOSYS" before a fallback to clone). */
    failedFirst?: string[];
    straceVersion: string;
  };
  /** A fork-like child (exit signal only): what it shares all the same. */
  forkLikeShares: {
    /** The parent's offset on a file both hold after the child lseek()ed it to 100. */
    offsetSeenByParent: number;
    /** The parent saw the child's lseek: the open file description is shared. */
    offsetShared: boolean;
    /** What the matrix's five resources showed for this child (none shared on Linux). */
    shared: NonNullable<ShareRow['shared']>;
    mapShared: boolean;
    namespacesSame: string[];
    namespacesDiffer: string[];
  };
}

/** Kinds this family records that no rule reads, and why they are recorded all the same. */
export const CLONE_EVIDENCE_ONLY: EvidenceOnly = {
  cloneNamespaces:
    'Each CLONE_NEW* flag, tried alone, gave the child a new namespace of its own kind and no other: ' +
    'its test asserts that documented clone(2) behaviour, while the claims about what the flags decide (A10, B2, B4, C5) ' +
    'are judged on the eight resource-sharing flags of the matrix and on the flag rules.',
  cloneIdsWritten:
    "What the kernel writes for CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID and CLONE_PIDFD is the creator's other ways to learn a new task's ID: " +
    "no claim is about them (C2 is about clone's return value, which the matrix records), " +
    "so their tests assert clone(2)'s documented behaviour and the report keeps them as evidence.",
};

/** "the parent saw the child's lseek: offset 100": what showed an open file description shared. */
const lseekSeen = (forks: readonly { offsetSeenByParent: number }[]): string =>
  `the parent saw the child's lseek: offset ${list(forks.map((f) => f.offsetSeenByParent))}`;

/** The distinct flag rules of some cloneRules rows ("CLONE_THREAD needs CLONE_SIGHAND"), for a summary. */
const ruleNames = (rows: readonly CloneRuleRow[]): string[] => [...new Set(rows.map((r) => r.rule))];

/** The CLONE_NEW* flags (without CLONE_) of some cloneRules rows: "NEWPID", "NEWUSER". */
const newNamespaces = (rows: readonly CloneRuleRow[]): string[] => [...new Set(rows.flatMap((r) => r.flags.split('|').filter((f) => f.startsWith('NEW'))))];

/** A summary's clause for rows whose sharing did not follow the flags. */
const mismatchBrief = (mism: readonly string[]): string => `in ${plural(mism.length, 'case')}, first ${mism[0]}`;

/** B2 and C5 alike: the threads whose sharing did not follow their flags refute both. */
function threadsAgainstFlags(threads: Parameters<typeof flagMismatches>[0], wrapper: string | null): Decision | undefined {
  const mism = flagMismatches(threads);
  if (!mism.length) return undefined;
  return {
    verdict: 'refuted',
    explanation: `Threads' sharing did not follow the flags: ${list(mism)}.${wrapperNote(wrapper)}`,
    summary: `Threads' sharing did not follow the flags ${mismatchBrief(mism)}.`,
  };
}

export const CLONE_CLAIMS: Claim[] = [
  {
    id: 'A5',
    source: 'answer 1',
    excerpt: 'processes sharing a TGID share at least memory space and signal handlers (sometimes more)',
    statement: 'Tasks that share a TGID always share at least their address space and signal handlers, sometimes more.',
    needs: ['cloneMatrix', 'cloneRules'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const sameGroup = nonEmpty(
        matrixRows(o).filter((r) => r.accepted && r.sameTgid),
        "child of the sharing matrix that shared its creator's TGID",
      );
      const lacking = sameGroup.filter((r) => !r.shared?.memory || !r.shared.sighand);
      if (lacking.length) {
        const said = (shared: boolean | undefined) => (shared ? 'shared' : 'not shared');
        const rows = lacking.map((r) => `${r.api} ${r.flags} (memory ${said(r.shared?.memory)}, handlers ${said(r.shared?.sighand)})`);
        return {
          verdict: 'refuted',
          explanation: `Children that shared their creator's TGID without sharing memory and signal handlers: ${list(rows)}.`,
          summary: oneLine(`${plural(lacking.length, 'child', 'children')} shared the creator's TGID without its memory and handlers: `, rows),
        };
      }
      refusalsMustBeTheKernels(o, o.env('probeWrapper'), 'Whether the kernel refuses the flag sets that would break that sharing');
      const rules = ruleOutcome(o, DEPENDENCY_RULES);
      if (!rules.refused.length && !rules.accepted.length) {
        const flagSets = 'The flag sets that would make a thread without shared handlers or memory';
        const why = rules.environment.length ? `${plural(rules.environment.length, 'flag set')} refused by the environment` : 'no such cloneRules row';
        throw new Inconclusive(
          `${flagSets} were not judged: ${notJudged(rules.environment)}.`,
          `the flag sets that would break the sharing were not judged (${why})`,
        );
      }
      // The matrix holds every CLONE_THREAD combination without CLONE_SIGHAND, and CLONE_SIGHAND without CLONE_VM.
      const loose = (r: ShareRow) => (hasFlag(r, 'THREAD') && !hasFlag(r, 'SIGHAND')) || (hasFlag(r, 'SIGHAND') && !hasFlag(r, 'VM'));
      const looseText = 'with CLONE_THREAD but not CLONE_SIGHAND, or CLONE_SIGHAND but not CLONE_VM';
      const matrixLoose = matrixRows(o).filter(loose);
      const matrixLooseAccepted = matrixLoose.filter((r) => r.accepted);
      const others = RESOURCES.filter((res) => res !== 'memory' && res !== 'sighand');
      const more = others.map((res) => ({ res, n: sameGroup.filter((r) => r.shared?.[res]).length }));
      const held = `All ${sameGroup.length} children (${apis(o)}) that shared their creator's TGID shared its memory and signal handlers.`;
      const withoutSharing = 'so a task can join a thread group without the sharing that rule guarantees; what such a child shares was not observed here';
      const looseAccepted = list(
        matrixLooseAccepted.map((r) => `${r.api} ${r.flags}`),
        4,
      );
      const briefs = [
        rules.accepted.length ? `the kernel accepted flag sets against ${ruleNames(rules.accepted).join(' and ')}` : '',
        matrixLooseAccepted.length ? `the matrix accepted ${matrixLooseAccepted.length} combinations ${looseText}` : '',
        more.every((m) => m.n === 0) ? `none of them shared anything more, so "sometimes more" was not seen` : '',
      ];
      const nuances = [
        rules.accepted.length ? `the kernel accepted ${acceptedAgainstDocs(rules.accepted)}, ${withoutSharing}` : '',
        matrixLooseAccepted.length ? `the matrix accepted ${matrixLooseAccepted.length} combinations ${looseText} (${looseAccepted})` : '',
        more.every((m) => m.n === 0) ? `none of them shared anything more (fd table, fs info, SysV undo), so "sometimes more" was not seen` : '',
      ].filter(Boolean);
      const enforcedParts = [
        rules.refused.length ? `the flag sets that would break it: ${byRule(rules.refused).join('; ')}` : '',
        matrixLoose.length && !matrixLooseAccepted.length
          ? `every one of the ${matrixLoose.length} matrix combinations (${apis(o)}) ${looseText} (${errnosOf(matrixLoose)})`
          : '',
      ].filter(Boolean);
      const enforced = enforcedParts.length ? ` The kernel refused ${enforcedParts.join(', and ')}.` : '';
      const added = more.map((m) => `${m.res} in ${m.n}`).join(', ');
      const moreText = more.some((m) => m.n > 0) ? ` "Sometimes more" matches what the other flags added: ${added} of them.` : '';
      return nuances.length
        ? {
            verdict: 'nuanced',
            explanation: `${held}${moreText} But ${nuances.join('; and ')}.${environmentNote(rules.environment)}`,
            summary: oneLine('Not always: ', briefs),
          }
        : {
            verdict: 'confirmed',
            explanation: `${held}${enforced}${moreText}${environmentNote(rules.environment)}`,
            summary: `All ${sameGroup.length} children sharing their creator's TGID shared its memory and signal handlers${enforcedParts.length ? ', and the kernel refused the flag sets that would break it' : ''}.`,
          };
    },
  },

  {
    id: 'A9',
    source: 'answer 1',
    excerpt: 'any kind of process can be created with clone(2)',
    statement: 'Every kind of task (process or thread) can be created with clone(2).',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    env: ['probeWrapper', 'libc'],
    verdicts: ['confirmed', 'refuted', 'inconclusive'],
    decide(o) {
      const wrapper = o.env('probeWrapper');
      const rows = matrixRows(o).filter((r) => r.api === 'clone');
      if (!rows.length) {
        const only = `only ${apis(o)}`;
        throw new Inconclusive(
          `The sharing matrix through legacy clone(2) was not observed completely in this run (${only}).`,
          `the sharing matrix through legacy clone(2) was not observed completely (${only})`,
        );
      }
      const kinds = [
        {
          kind: 'a process (fork-like: no sharing flag)',
          flags: 'none',
          ok: (r: ShareRow) =>
            r.sameTgid === false && r.waitable === true
              ? undefined
              : `its child ${r.sameTgid ? "joined the caller's thread group" : 'had its own TGID'} and ${r.waitable ? 'could' : 'could not'} be waited for`,
        },
        {
          kind: 'a vfork-like child (CLONE_VM|CLONE_VFORK)',
          flags: 'VM|VFORK',
          ok: (r: ShareRow) =>
            r.callerSuspended === true && r.shared?.memory === true
              ? undefined
              : `the caller ${r.callerSuspended ? 'was' : 'was not'} suspended and memory ${r.shared?.memory ? 'was' : 'was not'} shared`,
        },
        {
          kind: 'a thread (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM)',
          flags: 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM',
          ok: (r: ShareRow) => (r.sameTgid === true ? undefined : "its child did not share the caller's TGID"),
        },
      ].map((k) => {
        const row = present(
          rows.find((r) => r.flags === k.flags),
          `The clone(2) matrix row ${k.flags}`,
        );
        return { ...k, row, problem: row.accepted ? k.ok(row) : `clone(2) refused it with ${row.errno ?? 'no errno recorded'}` };
      });
      const failed = kinds.filter((k) => k.problem);
      if (failed.length) {
        const each = failed.map((k) => `${k.kind}: ${k.problem}`);
        return {
          verdict: 'refuted',
          explanation: `clone(2) did not create ${each.join('; ')}.${wrapperNote(wrapper)}`,
          summary: oneLine('clone(2) did not create ', each),
        };
      }
      const libc = o.all('libcCreation').map(({ result: l }) => {
        const flags = l.flags ? `(${l.flags})` : ' with no flags';
        const returned = l.returned === l.made ? '' : `, which returned ${l.returned} while the task it made reported ${l.made}`;
        const after = l.failedFirst?.length ? ` after ${l.failedFirst.join(', ')}` : '';
        return `${l.call} used ${l.syscall}${flags}${returned}${after}`;
      });
      const each =
        'the first had its own TGID and could be waited for, the second suspended its caller until it exited and shared its memory, ' +
        "the third joined the caller's thread group";
      const libcText = libc.length ? ` What ${libcOfRun(o)} itself calls, seen by strace: ${libc.join('; ')}.` : '';
      const made = kinds.map((k) => k.kind.replace(/ \(.*\)$/, ''));
      const madeText = made.length > 1 ? `${made.slice(0, -1).join(', ')} and ${made.at(-1)}` : made.join('');
      return {
        verdict: 'confirmed',
        explanation: `Raw clone(2) created ${kinds.map((k) => k.kind).join(', ')}: ${each}.${libcText}`,
        summary: `Raw clone(2) created ${madeText}, each behaving as its kind does.`,
      };
    },
  },

  {
    id: 'A10',
    source: 'answer 1',
    excerpt: 'what is shared between processes is decided by flags passed to clone(2)',
    statement: 'What two tasks share is decided by the flags passed to clone(2).',
    needs: ['cloneMatrix', 'cloneRules', 'forkLikeShares'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const rows = matrixRows(o);
      const accepted = nonEmpty(
        rows.filter((r) => r.accepted && r.shared),
        'accepted child of the sharing matrix',
      );
      const mism = flagMismatches(rows);
      if (mism.length)
        return {
          verdict: 'refuted',
          explanation: `Sharing did not follow the flags: ${list(mism)}.${wrapperNote(o.env('probeWrapper'))}`,
          summary: `Sharing did not follow the flags ${mismatchBrief(mism)}.`,
        };
      refusalsMustBeTheKernels(o, o.env('probeWrapper'), 'Which flag combinations the kernel refuses');
      const forks = nonEmpty(o.all('forkLikeShares'), 'fork-like child (forkLikeShares)').map((f) => f.result);
      const rules = ruleOutcome(o);
      const refusedRules = rules.refused;
      const refusedMatrix = rows.filter((r) => !r.accepted);
      const acceptedDocRefused = rules.accepted.filter(EXPECTED_REFUSAL);
      const offsets = forks.filter((f) => f.offsetShared);
      const maps = forks.filter((f) => f.mapShared);
      const nuances = [
        refusedMatrix.length ? `the kernel refused some combinations of the eight sharing flags (${refusedCount(o)}), so not every choice is available` : '',
        refusedRules.length ? `it refused these flag sets: ${list(byRule(refusedRules), 4)}` : '',
        offsets.length ? `a child made with no sharing flag still shared open file descriptions (${lseekSeen(offsets)})` : '',
        maps.length ? 'it still shared MAP_SHARED memory' : '',
      ].filter(Boolean);
      const stillShared = [offsets.length ? 'open file descriptions' : '', maps.length ? 'MAP_SHARED memory' : ''].filter(Boolean);
      const briefs = [
        refusedMatrix.length
          ? `the kernel refused ${refusedMatrix.length} of ${rows.length} flag combinations (${errnosOf(refusedMatrix)})`
          : refusedRules.length
            ? `the kernel refused ${plural(refusedRules.length, 'flag set')} (${ruleNames(refusedRules)[0]})`
            : '',
        stillShared.length ? `a child made with no sharing flag still shared ${stillShared.join(' and ')}` : '',
      ];
      const exactly = 'memory, fd table, fs info, signal handlers and SysV undo were shared exactly when CLONE_VM, FILES, FS, SIGHAND and SYSVSEM were passed';
      const held = `In every one of the ${accepted.length} accepted combinations (${apis(o)}), ${exactly}.`;
      const againstDocs = acceptedDocRefused.length
        ? ` The kernel accepted flag sets documented Linux refuses: ${acceptedAgainstDocs(acceptedDocRefused)}.`
        : '';
      const notes = `${againstDocs}${environmentNote(rules.environment)}`;
      if (nuances.length) {
        return {
          verdict: 'nuanced',
          explanation: `${held} But the flags do not decide everything: ${nuances.join('; ')}.${notes}`,
          summary: oneLine('The flags do not decide everything: ', briefs),
        };
      }
      return {
        verdict: 'confirmed',
        summary: `In all ${accepted.length} accepted combinations the child shared exactly what its flags asked, and no flag set tried was refused.`,
        explanation:
          `${held} No flag set tried was refused, and a child made with no sharing flag shared neither the open file description ` +
          `(the parent's offset stayed ${list(forks.map((f) => f.offsetSeenByParent))}) nor MAP_SHARED memory.${notes}`,
      };
    },
  },

  {
    id: 'A14',
    source: 'answer 1',
    excerpt: 'conclusion: the kernel knows only processes, each with a unique PID; a thread is a process sharing at least memory and signal handlers',
    statement: 'The kernel knows only processes, each with its own PID; a thread is a process that shares at least memory and signal handlers with others.',
    needs: ['threadGroupIds', 'cloneMatrix'],
    uses: ['pidnsInnerLookup'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const wrapper = o.env('probeWrapper');
      const tasks = nonEmpty(
        o.all('threadGroupIds').flatMap((g) => g.result.tasks),
        'task of a thread group (threadGroupIds)',
      );
      const pids = tasks.map((t) => t.statusPid);
      const dup = pids.filter((p, i) => pids.indexOf(p) !== i);
      if (dup.length) {
        const shared = `${list([...new Set(dup)])} (status Pid: of ${tasks.length} tasks)`;
        return {
          verdict: 'refuted',
          explanation: `Tasks of one thread group shared a PID: ${shared}.`,
          summary: `Tasks of one thread group shared a PID: ${list([...new Set(dup)], 3)}.`,
        };
      }
      const rows = matrixRows(o);
      const sameGroup = rows.filter((r) => r.accepted && r.sameTgid);
      const lacking = sameGroup.filter((r) => !r.shared?.memory || !r.shared.sighand);
      if (lacking.length) {
        const children = list(lacking.map((r) => `${r.api} ${r.flags}`));
        return {
          verdict: 'refuted',
          explanation: `Children that joined their creator's thread group did not share memory and signal handlers: ${children}.`,
          summary: `${plural(lacking.length, 'child', 'children')} in the creator's thread group did not share memory and handlers, first ${lacking[0]!.api} ${lacking[0]!.flags}.`,
        };
      }
      const pairs = [...new Set(rows.map((r) => r.api))].map((api) => {
        const without = present(
          rows.find((r) => r.api === api && r.flags === 'VM|SIGHAND'),
          `The ${api} matrix row VM|SIGHAND`,
        );
        const withT = present(
          rows.find((r) => r.api === api && r.flags === 'VM|SIGHAND|THREAD'),
          `The ${api} matrix row VM|SIGHAND|THREAD`,
        );
        if (!without.accepted || !withT.accepted) {
          const answer = (r: ShareRow) => (r.accepted ? 'accepted' : `refused (${r.errno ?? 'no errno recorded'})`);
          const cannot = 'A child sharing memory and handlers could not be compared with and without CLONE_THREAD';
          const answers = `${api} ${answer(without)} VM|SIGHAND and ${answer(withT)} VM|SIGHAND|THREAD`;
          throw new Inconclusive(`${cannot}: ${answers}.${wrapperNote(wrapper)}`, `${answers}, so the two could not be compared`);
        }
        const diffs = (['sameTgid', 'waitable', 'exitSignalToCaller'] as const).filter((k) => without[k] !== withT[k]);
        return { api, without, withT, diffs };
      });
      const sharedNote = sameGroup.length
        ? ` Every one of the ${sameGroup.length} matrix children that joined its creator's thread group shared memory and signal handlers.`
        : '';
      const inner = o
        .all('pidnsInnerLookup')
        .flatMap((n) => n.result.tasks)
        .filter((t) => t.innerPid !== t.outerPid);
      const bothPids = (t: (typeof inner)[number]) => `a task was ${t.innerPid} inside its namespace and ${t.outerPid} outside`;
      const nuances = [
        // One clause per distinct difference, naming every API that showed it.
        ...[
          ...pairs
            .filter((p) => p.diffs.length)
            .reduce((m, p) => {
              const key = p.diffs.map((d) => `${d} (${p.without[d]} without, ${p.withT[d]} with)`).join(', ');
              return m.set(key, [...(m.get(key) ?? []), p]);
            }, new Map<string, typeof pairs>()),
        ].map(
          ([diff, ps]) =>
            `through ${ps.map((p) => p.api).join(' and ')}, a CLONE_VM|CLONE_SIGHAND child without CLONE_THREAD differed from one with it in ${diff}: ` +
            'sharing memory and handlers alone did not make a thread, the kernel tells a thread group apart',
        ),
        inner.length ? `"its own PID" is per PID namespace: ${list(inner.map(bothPids), 4)}` : '',
      ].filter(Boolean);
      const held = `Each of the ${tasks.length} tasks of ${o.all('threadGroupIds').length} thread groups had a PID of its own.${sharedNote}`;
      const words = { sameTgid: 'thread group', waitable: 'being waitable', exitSignalToCaller: 'exit signal' } as const;
      const differing = [...new Set(pairs.flatMap((p) => p.diffs))].map((d) => words[d]);
      const briefs = [
        differing.length
          ? `without CLONE_THREAD a child sharing memory and handlers differed in ${differing.join(', ')}, so the kernel tells threads apart`
          : '',
        inner[0] ? `a PID is per namespace (task ${inner[0].outerPid} was ${inner[0].innerPid} inside)` : '',
      ];
      if (nuances.length) return { verdict: 'nuanced', explanation: `${held} But ${nuances.join('; and ')}.`, summary: oneLine('Not only sharing: ', briefs) };
      return {
        verdict: 'confirmed',
        summary: `Each of the ${tasks.length} tasks had a PID of its own, and a memory-and-handlers child behaved alike with or without CLONE_THREAD.`,
        explanation:
          `${held} A child sharing memory and handlers behaved the same with or without CLONE_THREAD (thread group, waitable, exit signal) ` +
          `through ${pairs.map((p) => p.api).join(' and ')}.`,
      };
    },
  },

  {
    id: 'B2',
    source: 'answer 2',
    excerpt: 'clone(2) flags determine what is shared and not shared between threads',
    statement: 'clone(2) flags decide what threads share and do not share.',
    needs: ['cloneMatrix'],
    uses: ['cloneRules'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const threads = threadRows(o);
      const refuted = threadsAgainstFlags(threads, o.env('probeWrapper'));
      if (refuted) return refuted;
      refusalsMustBeTheKernels(o, o.env('probeWrapper'), 'Which resources every thread must share (read from the flag sets refused)');
      const optional = RESOURCES.filter((res) => threads.some((r) => r.shared?.[res]) && threads.some((r) => !r.shared?.[res]));
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      const decided = optional.length
        ? `the flags decided ${optional.join(', ')}, each shared exactly when its flag was passed`
        : 'every resource was shared exactly when its flag was passed';
      const children = `For the ${threads.length} accepted CLONE_THREAD children (${apis(o)})`;
      if (!forced.length) {
        return {
          verdict: 'confirmed',
          explanation: `${children}, ${decided}; no resource was shared by every thread whatever the flags.`,
          summary: `For ${threads.length} CLONE_THREAD children every resource was shared exactly when its flag was passed.`,
        };
      }
      // Why a resource was always shared, from what was observed: the THREAD rows lacking its flag, refused.
      const rows = matrixRows(o).filter((r) => hasFlag(r, 'THREAD'));
      const refusedWithout = forced.filter((res) => {
        const lacking = rows.filter((r) => !hasFlag(r, RESOURCE_FLAG[res]));
        return lacking.length && lacking.every((r) => !r.accepted);
      });
      const why = forced
        .map((res) => {
          const lacking = rows.filter((r) => !hasFlag(r, RESOURCE_FLAG[res]));
          const refused = lacking.filter((r) => !r.accepted);
          return lacking.length && refused.length === lacking.length
            ? `all ${lacking.length} CLONE_THREAD combinations without CLONE_${RESOURCE_FLAG[res]} were refused (${errnosOf(refused)})`
            : '';
        })
        .filter(Boolean);
      const rules = ruleOutcome(o, DEPENDENCY_RULES);
      const ruleText = rules.refused.length ? `; the rule rows agree: ${byRule(rules.refused).join('; ')}` : '';
      const forcedText = `${forced.join(' and ')} ${forced.length > 1 ? 'were' : 'was'}`;
      const whyText = why.length ? `: ${why.join(', ')}${ruleText}` : '';
      const refusedText = refusedWithout.length
        ? ` (CLONE_THREAD without CLONE_${refusedWithout.map((res) => RESOURCE_FLAG[res]).join(' or CLONE_')} was refused)`
        : '';
      return {
        verdict: 'nuanced',
        explanation: `${children}, ${decided}; but ${forcedText} shared by every thread${whyText}.${environmentNote(rules.environment)}`,
        summary: `The flags do not decide everything: ${forcedText} shared by every thread whatever the flags${refusedText}.`,
      };
    },
  },

  {
    id: 'B3',
    source: 'answer 2',
    excerpt: 'classic processes are just threads that share nothing',
    statement: 'A classic process is just a thread that shares nothing.',
    needs: ['cloneMatrix', 'forkLikeShares'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const nones = nonEmpty(
        matrixRows(o).filter((r) => r.flags === 'none'),
        'matrix row with no sharing flag',
      );
      const refused = nones.filter((r) => !r.accepted);
      if (refused.length) {
        const refusals = list(refused.map((r) => `${r.api} refused it with ${r.errno ?? 'no errno recorded'}`));
        return {
          verdict: 'refuted',
          explanation: `A child with no sharing flag could not be made: ${refusals}.`,
          summary: `A child with no sharing flag could not be made: ${refusals}.`,
        };
      }
      const sharedAnyway = nones.flatMap((r) => RESOURCES.filter((res) => r.shared?.[res]).map((res) => `${res} (${r.api})`));
      if (sharedAnyway.length) {
        return {
          verdict: 'refuted',
          explanation: `A child made with no sharing flag shared ${list(sharedAnyway)}.`,
          summary: `A child made with no sharing flag shared ${list(sharedAnyway, 4)}.`,
        };
      }
      const notProcess = nones
        .flatMap((r) => [
          r.sameTgid ? `through ${r.api} it joined the caller's thread group` : '',
          r.waitable ? '' : `through ${r.api} its creator could not wait for it`,
          r.exitSignalToCaller ? '' : `through ${r.api} it sent its creator no exit signal`,
        ])
        .filter(Boolean);
      const sharedNone = 'A child made with no sharing flag shared none of memory, fd table, fs info, signal handlers or SysV undo';
      if (notProcess.length) {
        return {
          verdict: 'refuted',
          explanation: `${sharedNone}, but did not behave as a classic process: ${notProcess.join('; ')}.`,
          summary: oneLine('A child with no sharing flag did not behave as a classic process: ', notProcess),
        };
      }
      const forks = nonEmpty(o.all('forkLikeShares'), 'fork-like child (forkLikeShares)').map((f) => f.result);
      const nsSame = [...new Set(forks.flatMap((f) => f.namespacesSame))];
      const still = [
        forks.some((f) => f.offsetShared) ? `open file descriptions (${lseekSeen(forks.filter((f) => f.offsetShared))})` : '',
        forks.some((f) => f.mapShared) ? 'MAP_SHARED memory' : '',
        nsSame.length ? `its namespaces (${nsSame.join(', ')})` : '',
      ].filter(Boolean);
      const classic = 'like a classic process it had its own TGID, could be waited for and sent its creator its exit signal';
      const by = nones.map((r) => r.api).join(' and ');
      const held = `A child made by ${by} with no sharing flag shared none of memory, fd table, fs info, signal handlers or SysV undo, and ${classic}.`;
      const nsDiffer = [...new Set(forks.flatMap((f) => f.namespacesDiffer))];
      const differed = nsDiffer.length ? `, and its namespaces differed (${nsDiffer.join(', ')})` : '';
      const stillBrief = [
        forks.some((f) => f.offsetShared) ? 'open file descriptions' : '',
        forks.some((f) => f.mapShared) ? 'MAP_SHARED memory' : '',
        nsSame.length ? plural(nsSame.length, 'namespace') : '',
      ].filter(Boolean);
      return still.length
        ? {
            verdict: 'nuanced',
            explanation: `${held} But it was not sharing "nothing": it still shared ${still.join(', ')}.`,
            summary: `Not "nothing": a child made with no sharing flag still shared ${stillBrief.join(', ')} with its creator.`,
          }
        : {
            verdict: 'confirmed',
            explanation: `${held} It shared no open file description and no MAP_SHARED memory${differed}.`,
            summary: 'A child made with no sharing flag shared nothing observed with its creator and behaved as a classic process.',
          };
    },
  },

  {
    id: 'B4',
    source: 'answer 2',
    excerpt: 'you can share whichever components you want under Linux',
    statement: 'On Linux you can share any combination of components you like.',
    needs: ['cloneMatrix', 'cloneRules'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'inconclusive'],
    decide(o) {
      refusalsMustBeTheKernels(o, o.env('probeWrapper'), 'Whether the kernel lets every combination be shared');
      const refused = matrixRows(o).filter((r) => !r.accepted);
      const rules = ruleOutcome(o);
      if (refused.length || rules.refused.length) {
        const examples = list(refused.slice(0, 3).map((r) => `${r.api} ${r.flags}`));
        const matrixText = refused.length
          ? `The kernel refused combinations of the eight sharing flags (${refusedCount(o)}; e.g. ${examples})`
          : `The kernel accepted all ${matrixRows(o).length} combinations of the eight sharing flags (${apis(o)})`;
        const ruleText = rules.refused.length ? `, and refused these flag sets with ${FLAG_RULE_ERRNO}: ${list(byRule(rules.refused), 4)}` : '';
        const accepted = rules.accepted.filter(EXPECTED_REFUSAL);
        const againstDocs = accepted.length ? ` It accepted flag sets documented Linux refuses: ${acceptedAgainstDocs(accepted)}.` : '';
        const total = matrixRows(o).length;
        const rulesBrief = rules.refused.length ? `${plural(rules.refused.length, 'other flag set')} with ${FLAG_RULE_ERRNO}` : '';
        const summary = refused.length
          ? `The kernel refused ${refused.length} of ${total} combinations of the eight sharing flags (${errnosOf(refused)}; first ${refused[0]!.api} ${refused[0]!.flags})${rulesBrief ? ` and ${rulesBrief}` : ''}.`
          : `The kernel refused ${rulesBrief}, first: ${ruleNames(rules.refused)[0]}.`;
        return { verdict: 'refuted', explanation: `${matrixText}${ruleText}.${againstDocs}${environmentNote(rules.environment)}`, summary };
      }
      if (rules.environment.length) {
        const refusals = list(rules.environment.map((r) => `${r.api}(${r.flags}) was refused with ${r.result}`));
        const acceptedAll = `The kernel accepted all ${matrixRows(o).length} matrix combinations (${apis(o)})`;
        throw new Inconclusive(
          `${acceptedAll}, but the other flag sets could not be judged: ${refusals}, an environment refusal, not a flag rule.`,
          `${plural(rules.environment.length, 'flag set')} beyond the matrix ${rules.environment.length === 1 ? 'was' : 'were'} refused by the environment (${list([...new Set(rules.environment.map((r) => r.result))], 3)}), not by a flag rule`,
        );
      }
      return {
        verdict: 'confirmed',
        summary: `The kernel accepted all ${matrixRows(o).length} combinations of the eight sharing flags and all ${rules.accepted.length} other flag sets tried.`,
        explanation:
          `The kernel accepted all ${matrixRows(o).length} combinations of the eight sharing flags (${apis(o)}) ` +
          `and all ${rules.accepted.length} other flag sets tried (${list(
            rules.accepted.map((r) => `${r.api}(${r.flags})`),
            4,
          )}).`,
      };
    },
  },

  {
    id: 'C2',
    source: 'answer 3',
    excerpt: 'threads are created with clone, which returns a process ID',
    statement: 'Threads are created with clone(2), which returns a process ID.',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    env: ['libc'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const threads = threadRows(o);
      const notTid = threads.filter((r) => !r.returnedChildTid);
      if (notTid.length) {
        const children = list(notTid.map((r) => `${r.api} ${r.flags}`));
        return {
          verdict: 'refuted',
          explanation: `clone did not return the new thread's own TID (its gettid(2)) for ${children}.`,
          summary: `clone did not return the new thread's own TID for ${notTid.length} of ${threads.length} children, first ${notTid[0]!.api} ${notTid[0]!.flags}.`,
        };
      }
      const notGetpid = threads.filter((r) => r.returnedChildGetpid === false);
      const nuances: string[] = [];
      /** Each nuance in brief, for the summary. */
      const briefs: string[] = [];
      if (notGetpid.length) {
        briefs.push(`the ID clone returned was a TID, not what getpid(2) gave inside the thread (${notGetpid.length} of ${threads.length})`);
        const inGroup = notGetpid.filter((r) => r.sameTgid).length;
        const creators = inGroup ? ` (in ${inGroup} of them getpid(2) gave the creator's TGID)` : '';
        const notPosix = "it is a PID in the kernel's sense, a TID, not the POSIX process ID";
        nuances.push(`in ${notGetpid.length} of them that ID was not what getpid(2) returned inside the new thread${creators}: ${notPosix}`);
      }
      const pcs = o
        .all('libcCreation')
        .filter((l) => l.result.call === 'pthread_create')
        .map((l) => l.result);
      const lib = libcOfRun(o);
      const libc = pcs
        .map((pc) => {
          const call = pc.flags ? `${pc.syscall}(${pc.flags})` : `${pc.syscall} with no flags`;
          if (pc.returned !== pc.made) {
            nuances.push(`${lib}'s pthread_create(3) called ${call}, which returned ${pc.returned}, while the new thread's gettid(2) was ${pc.made}`);
            briefs.push(`pthread_create(3)'s ${pc.syscall} returned ${pc.returned}, not the new thread's TID ${pc.made}`);
            return '';
          }
          if (pc.syscall !== 'clone') {
            nuances.push(`${lib}'s pthread_create(3) made its thread with ${pc.syscall}, not clone(2) itself`);
            briefs.push(`${lib}'s pthread_create(3) used ${pc.syscall}, not clone(2)`);
          }
          const after = pc.failedFirst?.length ? ` (after ${pc.failedFirst.join(', ')})` : '';
          return ` In ${lib}, pthread_create(3) called ${call}${after}, which returned ${pc.returned}, the new thread's TID (its gettid(2)).`;
        })
        .join('');
      const held = `For all ${threads.length} accepted CLONE_THREAD children (${apis(o)}), clone returned the new task's own ID, its gettid(2).${libc}`;
      return nuances.length
        ? { verdict: 'nuanced', explanation: `${held} But ${nuances.join('; and ')}.`, summary: oneLine('Not a process ID as POSIX means it: ', briefs) }
        : {
            verdict: 'confirmed',
            explanation: `${held} That ID was also what getpid(2) returned inside each new thread.`,
            summary: `For all ${threads.length} CLONE_THREAD children clone returned the new thread's ID, which getpid(2) also returned inside it.`,
          };
    },
  },

  {
    id: 'C5',
    source: 'answer 3',
    excerpt: "clone flags determine how much of the parent's environment the thread shares",
    statement: "clone(2) flags decide how much of the parent's environment a thread shares.",
    needs: ['cloneMatrix', 'cloneRules'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const threads = threadRows(o);
      const refuted = threadsAgainstFlags(threads, o.env('probeWrapper'));
      if (refuted) return refuted;
      refusalsMustBeTheKernels(o, o.env('probeWrapper'), 'Which resources every thread must share (read from the flag sets refused)');
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      const optional = RESOURCES.filter((res): res is Resource => !forced.includes(res));
      const ns = ruleOutcome(o, THREAD_NS_RULES);
      if (!ns.refused.length && !ns.accepted.length) {
        throw new Inconclusive(
          `Whether a thread can get a new PID or user namespace was not judged: ${notJudged(ns.environment)}.`,
          `whether a thread can get a new PID or user namespace (${ns.environment.length ? `${plural(ns.environment.length, 'flag set')} refused by the environment` : 'no such cloneRules row'})`,
        );
      }
      const followed = optional.length ? `${optional.join(', ')} followed their flags` : 'no resource was left to the flags';
      const held = `Across ${threads.length} accepted CLONE_THREAD children (${apis(o)}), ${followed}.`;
      const nuances = [
        forced.length ? `${forced.join(' and ')} ${forced.length > 1 ? 'were' : 'was'} shared by every thread, whatever the flags` : '',
        ns.refused.length ? `a thread cannot be given a new namespace of these kinds: the kernel refused ${byRule(ns.refused).join('; ')}` : '',
      ].filter(Boolean);
      const accepted = ns.accepted.length ? ` The kernel accepted ${acceptedAgainstDocs(ns.accepted)}.` : '';
      const briefs = [
        forced.length ? `${forced.join(' and ')} ${forced.length > 1 ? 'were' : 'was'} shared by every thread whatever the flags` : '',
        ns.refused.length
          ? newNamespaces(ns.refused).length
            ? `the kernel refused CLONE_THREAD with CLONE_${newNamespaces(ns.refused).join(' or CLONE_')}`
            : `the kernel refused ${list(ruleNames(ns.refused))}`
          : '',
      ];
      return nuances.length
        ? {
            verdict: 'nuanced',
            explanation: `Within limits. ${held} But ${nuances.join('; and ')}.${accepted}${environmentNote(ns.environment)}`,
            summary: oneLine('Within limits: ', briefs),
          }
        : {
            verdict: 'confirmed',
            explanation: `${held}${accepted}${environmentNote(ns.environment)}`,
            summary: `Across ${threads.length} CLONE_THREAD children ${followed}, and no resource was shared whatever the flags.`,
          };
    },
  },
];
