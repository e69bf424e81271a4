/**
 * The proc claim family: what cases/claims/proc.test.ts observes, and the rules
 * of A11, A12, A13 over it.
 */
import { Inconclusive, nonEmpty, present, type Claim } from './rule.js';
import { lookupIds, lookupSteps, noSuchTask, reached, type LookupOutcome } from '../harness/lookup-outcome.js';
import { whereFrom } from './kernel-threads.js';
import { list, oneLine, plural } from './prose.js';
import { notCreatedByProbe, notCreatedWhy } from './ids.js';

/** The observation types below are made of lookups (helpers/harness/lookup-outcome.ts). */
export type { LookupOutcome };

/** CPU-time fields of one stat file (proc(5) fields 14, 15, 20), in clock ticks. */
export interface CpuFields {
  pid: number;
  utime: number;
  stime: number;
  numThreads: number;
}

/** The hidepid= value of a /proc's mount options when it hides anything (proc(5): not 0/off), else undefined. */
export function hidepidOf(mountOptions: string): string | undefined {
  const m = mountOptions.match(/(?:^|[\s,])hidepid=([^\s,]+)/);
  return m && m[1] !== '0' && m[1] !== 'off' ? m[1] : undefined;
}

export interface ProcObservations {
  /** One readdir(3) of /proc, and one of /proc/TGID/task, while a probe held its threads alive. */
  procListing: {
    threads: number;
    tgid: number;
    /** Every task's TID as the task got it from the raw gettid syscall (SYS_gettid), leader included. */
    tids: number[];
    tgidListed: boolean;
    /** Non-leader TIDs that the /proc listing did contain (should be none). */
    nonLeaderListed: number[];
    taskDir: number[];
    /** Where /proc/self and /proc/thread-self pointed, read by each task itself. */
    selfLinks: { tid: number; procSelf: string; procThreadSelf: string }[];
    /** Numeric entries in that readdir of /proc. */
    procEntries?: number;
  };
  /** Every numeric entry of one /proc listing, its status read: Tgid = Pid? */
  procListingScan: {
    entries: number;
    checked: number;
    tgidEqualsPid: number;
    /** Entries whose status was read and did not say Tgid = Pid = the entry's name. */
    mismatches: { entry: number; tgid: number; pid: number }[];
    /** Entries gone (ENOENT/ESRCH) between the listing and the read of their status. */
    vanished: number;
  };
  /** A non-leader TID, absent from the /proc listing, looked up directly from C. */
  hiddenTidLookup: {
    tgid: number;
    tid: number;
    listedInProc: boolean;
    lookup: LookupOutcome;
    /** The same probe run's lookup of the process itself, /proc/TGID: the baseline (it was reached). */
    processLookup?: LookupOutcome;
    /** Pid and Tgid of the status read through that lookup: absent when the lookup did not reach it. */
    statusPid?: number;
    statusTgid?: number;
    /** Numeric names in /proc/TID/task (only when /proc/TID was reached). */
    taskDirViaTid?: number[];
    cpu?: { viaTid: CpuFields; viaTaskDir: CpuFields; group: CpuFields };
  };
  /** `cd /proc/TID` for a non-leader TID, in a real shell. */
  shellCd: {
    shell: string;
    shellPath: string;
    tid: number;
    tgid: number;
    exitCode: number;
    /** What pwd printed after the cd: absent when the cd failed. */
    pwd?: string;
    /** What the shell said on stderr when the cd failed. */
    cdStderr?: string;
    /** Pid and Tgid lines of the status read in that directory: absent when the cd failed. */
    statusPid?: number;
    statusTgid?: number;
    /** `cd /proc/TGID` in the same shell first, the baseline: its exit status (0, or the observation is incomplete). */
    processCdExit?: number;
    /** `ls /proc | grep -x TID`: exit 1 and no output when the TID is not listed. */
    lsGrepExit: number;
    lsGrepOut: string;
  };
  /** /proc/TID after the thread exited and was joined, polled until it went away. */
  exitedTidLookup: {
    tid: number;
    tgid: number;
    lookup: LookupOutcome;
    /** Whether the poll saw /proc/TID gone before it gave up. */
    gone?: boolean;
    polls: number;
    /** How long the poll ran: until it saw the entry gone, or until it gave up. */
    ms: number;
  };
  /** A number no task can have: /proc/sys/kernel/pid_max itself (PIDs are below it). */
  unusedPidLookup: { pid: number; pidMax: number; lookup: LookupOutcome };
  /** Tasks in a child PID namespace, looked up from outside by their inner PIDs (and by their outer ones). */
  pidnsInnerLookup: {
    userns: boolean;
    tasks: {
      role: string;
      innerPid: number;
      outerPid: number;
      /** /proc/innerPid looked up from outside. */
      outside: LookupOutcome;
      /** Whether that lookup reached this very task (same NSpid). */
      sameTask: boolean;
      /** /proc/outerPid looked up from outside: this task's PID in the /proc's namespace. */
      outerLookup?: LookupOutcome;
      outerSameTask?: boolean;
    }[];
  };
  /** /proc mounted with hidepid in a private mount namespace, read by an unprivileged user. */
  hidepidLookup: {
    mountOption: string;
    uid: number;
    tgid: number;
    tid: number;
    hidden: LookupOutcome[];
    /** The same lookups as the same user on a /proc mounted without hidepid (all reached). */
    control: LookupOutcome[];
  };
}

const sortedEqual = (a: readonly number[], b: readonly number[]) => [...a].sort((x, y) => x - y).join() === [...b].sort((x, y) => x - y).join();
/** "a", "a and b", "a, b and c". */
const both = (xs: readonly string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : xs.join(''));
const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);

export const PROC_CLAIMS: Claim[] = [
  {
    id: 'A11',
    source: 'answer 1',
    excerpt: 'numeric folder names listed by `ls /proc` are TGIDs',
    statement: 'The numeric directories that `ls /proc` lists are TGIDs.',
    needs: ['procListing', 'procListingScan'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const listings = o.all('procListing').map((l) => l.result);
      const scans = o.all('procListingScan').map((x) => x.result);
      const leaked = listings.flatMap((l) => l.nonLeaderListed.map((t) => `${t} (a thread of ${l.tgid})`));
      const mismatches = scans.flatMap((x) => x.mismatches);
      if (leaked.length || mismatches.length) {
        const idsOf = (m: (typeof mismatches)[number]) => `${m.entry} (Tgid ${m.tgid}, Pid ${m.pid})`;
        const what = [
          leaked.length ? `non-leader TIDs ${list(leaked)}` : '',
          mismatches.length ? `entries whose status did not say Tgid = Pid = the entry's name: ${list(mismatches.map(idsOf))}` : '',
        ].filter(Boolean);
        const briefs = [
          leaked.length ? `non-leader TID ${leaked[0]}${leaked.length > 1 ? ` and ${leaked.length - 1} more` : ''}` : '',
          mismatches[0] ? `${plural(mismatches.length, 'entry', 'entries')} not Tgid = Pid = its name, first ${idsOf(mismatches[0])}` : '',
        ];
        return {
          verdict: 'refuted',
          explanation: `The /proc listing held entries that are not TGIDs: ${what.join('; ')}.`,
          summary: oneLine('The /proc listing held entries that are not TGIDs: ', briefs),
        };
      }
      const checked = sum(scans.map((x) => x.checked));
      const entries = sum(scans.map((x) => x.entries));
      const vanished = sum(scans.map((x) => x.vanished));
      if (!checked) {
        const scanned = scans.length === 1 ? 'the scan' : `${scans.length} scans`;
        const read = `read the status of none of ${entries} numeric entries (${vanished} vanished between the listing and the read)`;
        throw new Inconclusive(
          `No entry of the /proc listing could be judged: ${scanned} ${read}.`,
          `the status of none of the ${entries} numeric /proc entries listed could be read`,
        );
      }
      const readdirs = scans.length === 1 ? 'one readdir' : `${scans.length} readdirs`;
      const vanishedText = `(${vanished} of ${entries} vanished between the listing and the read)`;
      const scanText = `In ${readdirs} of /proc, all ${checked} numeric entries whose status could be read had Tgid = Pid = the entry's name ${vanishedText}`;
      const nonLeaders = sum(listings.map((l) => l.tids.filter((t) => t !== l.tgid).length));
      const notListed = nonLeaders
        ? `, and none of their ${nonLeaders} non-leader TIDs was listed`
        : ', but none had a thread beside its leader, so no thread TID could have been listed';
      const held = `${listings.length} probes held ${list(listings.map((l) => l.tids.length))} tasks alive${notListed}`;
      const missing = listings.filter((l) => !l.tgidListed);
      if (missing.length) {
        const many = missing.length > 1;
        const absent = `the live probe process${many ? 'es' : ''} ${list(missing.map((l) => l.tgid))} ${many ? 'were' : 'was'} missing from it`;
        return {
          verdict: 'nuanced',
          explanation: `${scanText}; ${held}. But the listing did not hold every TGID: ${absent}, so not every thread group has a listed directory.`,
          summary: `Not every TGID was listed: the live probe process${many ? 'es' : ''} ${list(
            missing.map((l) => l.tgid),
            3,
          )} ${many ? 'were' : 'was'} missing from /proc.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `${scanText}; ${held}, and each probe's TGID was listed.`,
        summary: `All ${checked} /proc entries read had Tgid = Pid = their name, and none of ${plural(nonLeaders, 'live non-leader TID')} was listed.`,
      };
    },
  },

  {
    id: 'A12',
    source: 'answer 1',
    excerpt: 'numeric names in /proc/TGID/task are PIDs',
    statement: 'The numeric directories in /proc/TGID/task are the PIDs of the tasks of that group.',
    needs: ['procListing'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'inconclusive'],
    decide(o) {
      const wrapper = o.env('probeWrapper');
      const reported = o
        .all('procListing')
        .map((l) => l.result)
        .filter((l) => l.tids.length > 0);
      const groups = nonEmpty(reported, 'thread group with the TIDs its tasks reported');
      // A listing holding every reported TID, once, plus entries no task reported: tasks the probe did not create.
      // Their entries cannot be checked against a TID a task reported, so they are not judged (notCreatedByProbe).
      const withUnmade = groups.filter((l) => {
        const extra = notCreatedByProbe(l.tids, l.taskDir)!;
        return (
          extra.length > 0 &&
          sortedEqual(
            l.taskDir.filter((t) => !extra.includes(t)),
            l.tids,
          ) &&
          new Set(l.taskDir).size === l.taskDir.length
        );
      });
      const wrong = groups.filter((l) => !sortedEqual(l.taskDir, l.tids) && !withUnmade.includes(l));
      const w = wrong[0];
      const unmadeText = withUnmade
        .map((l) => `/proc/${l.tgid}/task listed ${list(notCreatedByProbe(l.tids, l.taskDir)!)} besides the ${l.tids.length} TIDs its tasks reported`)
        .join('; ');
      const unmadeNote = withUnmade.length ? ` Not judged: ${unmadeText}: tasks the probe did not create (${notCreatedWhy(wrapper)}).` : '';
      if (w) {
        const extra = w.taskDir.filter((t) => !w.tids.includes(t)).length;
        const lacked = w.tids.filter((t) => !w.taskDir.includes(t)).length;
        const how = [extra ? `${extra} extra` : '', lacked ? `${lacked} missing` : '', !extra && !lacked ? 'repeated entries' : ''].filter(Boolean).join(', ');
        const others = wrong.length > 1 ? ` (and ${plural(wrong.length - 1, 'other group')})` : '';
        return {
          verdict: 'refuted',
          summary: `/proc/${w.tgid}/task did not list exactly the TIDs its tasks reported: ${how}${others}.`,
          explanation: `/proc/TGID/task did not list the group's TIDs: ${wrong
            .map((l) => {
              const extra = l.taskDir.filter((t) => !l.tids.includes(t));
              const missing = l.tids.filter((t) => !l.taskDir.includes(t));
              const differences = [
                extra.length ? `listed ${list(extra)}, which no task of the group reported` : '',
                missing.length ? `lacked ${list(missing)}, which tasks of the group reported` : '',
                !extra.length && !missing.length ? `listed ${list(l.taskDir)} with repeats` : '',
              ];
              return `for TGID ${l.tgid} it ${differences.filter(Boolean).join(' and ')}`;
            })
            .join('; ')}.${unmadeNote}`,
        };
      }
      if (withUnmade.length) {
        const first = withUnmade[0]!;
        const n = notCreatedByProbe(first.tids, first.taskDir)!.length;
        const listed = `every TID its tasks reported was listed in /proc/TGID/task, in ${plural(groups.length, 'thread group')}`;
        throw new Inconclusive(
          `Not every entry could be checked: ${listed}, but ${unmadeText}: tasks the probe did not create, whose names no task reported (${notCreatedWhy(wrapper)}).`,
          `a check of every entry: /proc/${first.tgid}/task also listed ${plural(n, 'task')} the probe did not create (${wrapper ? "the wrapper's" : 'no wrapper recorded'})`,
        );
      }
      return {
        verdict: 'confirmed',
        summary: `For ${plural(groups.length, 'thread group')}, /proc/TGID/task listed exactly the TIDs the tasks got from the gettid system call.`,
        explanation:
          `For ${groups.length} thread groups of ${list(groups.map((l) => l.tids.length))} tasks, ` +
          '/proc/TGID/task listed exactly the TIDs the tasks got from the raw gettid system call (SYS_gettid), no more, no fewer.',
      };
    },
  },

  {
    id: 'A13',
    source: 'answer 1',
    excerpt: 'though `ls /proc` does not show every PID, `cd /proc/any_PID` still works',
    statement: 'A PID that `ls /proc` does not list can still be entered with `cd /proc/PID`.',
    needs: ['hiddenTidLookup', 'shellCd'],
    uses: ['exitedTidLookup', 'unusedPidLookup', 'pidnsInnerLookup', 'hidepidLookup', 'pidNamespaces'],
    env: ['initialPidNamespace', 'procMountOptions', 'euid'],
    verdicts: ['confirmed', 'refuted', 'nuanced'],
    // A13 is about the /proc one stands in: mounted hidepid=invisible, it hides other users' PIDs, listed or not, from cd.
    expectedIn: {
      hidepid: { verdict: 'nuanced', because: "This run's own /proc is mounted hidepid=invisible: it lets this user enter only its own tasks' PIDs." },
    },
    /*
     * What the claim asserts: in the /proc you stand in, a PID of a live task
     * that the listing leaves out (a thread's TID) can still be entered. The
     * verdict is decided on that /proc alone, from observations every run
     * makes (the C lookups, the shells, this run's mount options). Optional
     * experiments elsewhere (a child PID namespace, a separate hidepid mount)
     * either add PIDs of this /proc that must be enterable too (the outer
     * PIDs of namespaced tasks: a failure refutes) or show what "any PID"
     * does not cover (inner PIDs, another mount's options): those are stated
     * as scope, and their absence as "not observed", never as a verdict.
     */
    decide(o) {
      const hidden = o.all('hiddenTidLookup').map((h) => h.result);
      const shells = o.all('shellCd').map((x) => x.result);
      const inner = o.all('pidnsInnerLookup').map((n) => n.result);
      const refuting: string[] = [];
      /** Each refuting fact in brief, for the summary. */
      const refutingBrief: string[] = [];
      for (const h of hidden) {
        if (h.listedInProc) {
          refuting.push(`TID ${h.tid} (a thread of ${h.tgid}) was in the readdir of /proc, so it was not hidden from the listing`);
          refutingBrief.push(`TID ${h.tid} was listed in /proc`);
        }
        if (!reached(h.lookup)) {
          const butProcess = h.processLookup && reached(h.processLookup) ? `, while /proc/${h.tgid} was entered in the same run` : '';
          refuting.push(`from C, /proc/${h.tid} (a thread of ${h.tgid}) failed: ${lookupSteps(h.lookup)}${butProcess}`);
          refutingBrief.push(`from C, /proc/${h.tid} (a thread of ${h.tgid}) could not be entered`);
        } else if (h.statusPid !== h.tid || h.statusTgid !== h.tgid) {
          const pid = present(h.statusPid, `the Pid line of /proc/${h.tid}/status`);
          const tgid = present(h.statusTgid, `the Tgid line of /proc/${h.tid}/status`);
          const whose = pid === h.tgid ? "the group leader's entry" : "another task's entry";
          refuting.push(`from C, /proc/${h.tid} was entered, but the status there said Pid ${pid}, Tgid ${tgid}: ${whose}, not the thread's`);
          refutingBrief.push(`from C, /proc/${h.tid} led to ${whose} (Pid ${pid})`);
        }
      }
      for (const s of shells) {
        if (s.lsGrepExit !== 0 && s.lsGrepExit !== 1) {
          throw new Inconclusive(
            `ls /proc | grep -x ${s.tid} in ${s.shell} exited ${s.lsGrepExit}: neither found (0) nor not found (1).`,
            `whether ${s.shell}'s ls /proc listed TID ${s.tid} (grep exited ${s.lsGrepExit})`,
          );
        }
        if (s.lsGrepExit === 0) {
          refuting.push(`ls /proc | grep -x ${s.tid} found "${s.lsGrepOut.trim()}" in ${s.shell}, so TID ${s.tid} was listed`);
          refutingBrief.push(`${s.shell}'s ls /proc listed TID ${s.tid}`);
        }
        if (s.exitCode !== 0 || s.pwd !== `/proc/${s.tid}`) {
          const pwd = s.pwd !== undefined ? ` with pwd ${s.pwd}` : '';
          const stderr = s.cdStderr ? ` ("${s.cdStderr}")` : '';
          const butProcess = s.processCdExit === 0 ? `, while cd /proc/${s.tgid} worked in the same shell` : '';
          refuting.push(`${s.shell} (${s.shellPath}): cd /proc/${s.tid} exited ${s.exitCode}${pwd}${stderr}${butProcess}`);
          refutingBrief.push(
            `in ${s.shell}, cd /proc/${s.tid} exited ${s.exitCode}${s.pwd !== undefined && s.pwd !== `/proc/${s.tid}` ? ` with pwd ${s.pwd}` : ''}`,
          );
        } else if (s.statusPid !== s.tid || s.statusTgid !== s.tgid) {
          const pid = present(s.statusPid, `the Pid line ${s.shell} read in /proc/${s.tid}`);
          const tgid = present(s.statusTgid, `the Tgid line ${s.shell} read in /proc/${s.tid}`);
          const whose = pid === s.tgid ? "the group leader's entry" : "another task's entry";
          refuting.push(`${s.shell}: cd /proc/${s.tid} worked, but the status there said Pid ${pid}, Tgid ${tgid}: ${whose}, not the thread's`);
          refutingBrief.push(`in ${s.shell}, cd /proc/${s.tid} led to ${whose} (Pid ${pid})`);
        }
      }
      for (const n of inner) {
        for (const t of n.tasks) {
          if (t.outerLookup && !(reached(t.outerLookup) && t.outerSameTask)) {
            const outcome = reached(t.outerLookup) ? 'was entered but held another task' : `failed: ${lookupSteps(t.outerLookup)}`;
            refuting.push(`/proc/${t.outerPid}, the PID in this /proc of the ${t.role} of a child PID namespace, ${outcome}`);
            refutingBrief.push(`/proc/${t.outerPid} (a namespaced ${t.role}) ${reached(t.outerLookup) ? 'held another task' : 'could not be entered'}`);
          }
        }
      }
      if (refuting.length) {
        return {
          verdict: 'refuted',
          explanation: `Entering a PID that ls /proc does not list did not work as claimed: ${refuting.join('; ')}.`,
          summary: oneLine('Not as claimed: ', refutingBrief),
        };
      }

      const outerEntered = inner.flatMap((n) => n.tasks.filter((t) => t.outerLookup).map((t) => `${t.outerPid} (${t.role})`));
      const tidText = (hs: typeof hidden) => list(hs.map((h) => `${h.tid} (a thread of ${h.tgid})`));
      const statusSaid = 'the status read there said Pid = TID, Tgid = TGID.';
      const tids = `TID${hidden.length > 1 ? 's' : ''} ${tidText(hidden)} ${hidden.length > 1 ? 'were' : 'was'}`;
      const shellNames = both(shells.map((s) => `${s.shell} (${s.shellPath})`));
      const cdWorked = 'cd /proc/TID worked: pwd printed /proc/TID and the status there said Pid = TID, Tgid = TGID.';
      const shellTids = `TID${shells.length > 1 ? 's' : ''} ${both(shells.map((s) => String(s.tid)))}`;
      const held = [
        `Held: ${tids} absent from a readdir of /proc and entered from C: stat, open and chdir succeeded, and ${statusSaid}`,
        `In ${shellNames}, ls /proc | grep -x TID found nothing for ${shellTids}, and ${cdWorked}`,
        outerEntered.length ? `The PIDs in this /proc of tasks in a child PID namespace were entered too, listed or not: ${list(outerEntered)}.` : '',
      ]
        .filter(Boolean)
        .join(' ');

      const limits: string[] = [];
      /** Each limit in brief, for the summary. */
      const limitBriefs: string[] = [];
      const bounds: string[] = [];
      for (const e of o.all('exitedTidLookup').map((x) => x.result)) {
        const poll = e.gone
          ? `the poll saw /proc/${e.tid} gone ${e.ms} ms after the join`
          : `the poll still saw /proc/${e.tid} when it gave up after ${e.ms} ms`;
        const exited = 'the TID of a thread that had exited and been joined';
        if (reached(e.lookup)) {
          limits.push(`/proc/${e.tid}, ${exited}, could still be entered (${poll}), so entering /proc/N did not show that a task N was running`);
          limitBriefs.push(`/proc/${e.tid} of an exited, joined thread could still be entered`);
        } else {
          const gave = noSuchTask(e.lookup) ? 'ENOENT, as expected for a task that no longer exists' : lookupSteps(e.lookup);
          bounds.push(`${exited} gave ${gave} (${poll})`);
        }
      }
      for (const u of o.all('unusedPidLookup').map((x) => x.result)) {
        if (reached(u.lookup)) {
          limits.push(`/proc/${u.pid}, a number at pid_max (${u.pidMax}) that no task can have, could be entered`);
          limitBriefs.push(`/proc/${u.pid}, at pid_max, could be entered`);
        } else
          bounds.push(`pid_max itself (${u.pidMax}), which no task can have, gave ${noSuchTask(u.lookup) ? 'ENOENT, as expected' : lookupSteps(u.lookup)}`);
      }

      const hidepids = o.all('hidepidLookup').map((h) => h.result);
      const hidepidSeen = (h: (typeof hidepids)[number]) => {
        const blocked = h.hidden.filter((l) => !reached(l));
        const on = `on a /proc mounted ${h.mountOption}, uid ${h.uid}`;
        if (!blocked.length) return `${on} still entered ${list(h.hidden.map((l) => l.path))} (another user's process and its thread)`;
        const refused = list(blocked.map((l) => `${l.path} (chdir ${l.chdir})`));
        return `${on} could not enter ${refused} (another user's process and its unlisted thread), where a /proc mounted without it let the same user in`;
      };
      const scope: string[] = [];
      const notSeen: string[] = [];
      // Where this run looked from: the /proc the claim's "ls /proc" and "cd /proc/PID" are about.
      const euid = o.env('euid');
      const mountOptions = o.env('procMountOptions');
      const from = `this run looked from ${whereFrom(o.env('initialPidNamespace'))}${euid === null ? '' : `, as euid ${euid}`}`;
      const hp = mountOptions === null ? undefined : hidepidOf(mountOptions);
      if (mountOptions === null) {
        scope.push(from);
        notSeen.push("the mount options of this run's /proc (they could not be read)");
      } else if (hp) {
        const separate = hidepids.length ? `; observed on a separate mount: ${hidepids.map(hidepidSeen).join('; ')}` : '';
        const keeps = "which (proc(5)) keeps other users' /proc/PID from whoever may not ptrace them";
        limits.push(`this run's own /proc is mounted with hidepid=${hp} ("${mountOptions}"), ${keeps}${separate}`);
        limitBriefs.push(`this run's /proc is mounted hidepid=${hp}, which keeps other users' PIDs from being entered`);
        scope.push(from);
      } else {
        scope.push(`${from}, through a /proc mounted "${mountOptions}" (no hidepid)`);
      }
      if (!hp) for (const h of hidepids) scope.push(`${hidepidSeen(h)}: the claim is about a /proc mounted as this run's is`);
      if (!hidepids.length) notSeen.push('a /proc mounted with hidepid (that test did not run or was set aside)');

      for (const n of inner) {
        scope.push(
          `a PID inside a child PID namespace is not a PID of this /proc: looked up from outside, ${list(
            n.tasks.map((t) => {
              const ids = lookupIds(t.outside);
              const another = `was another task${ids?.name ? `, "${ids.name}"` : ''}${ids?.pid !== undefined ? ` (Pid ${ids.pid})` : ''}`;
              const what = t.sameTask ? 'reached that same task' : reached(t.outside) ? another : `gave ${t.outside.stat}`;
              return `/proc/${t.innerPid} (the inner PID of ${t.outerPid}) ${what}`;
            }),
          )}`,
        );
      }
      if (!inner.length) notSeen.push('tasks in a child PID namespace (that test did not run or was set aside)');
      const innerProc = o
        .all('pidNamespaces')
        .map((n) => n.result)
        .find((n) => n.innerProcEntries);
      if (innerProc?.innerProcEntries) {
        scope.push(`a /proc mounted inside a child PID namespace listed only that namespace's tasks (${list(innerProc.innerProcEntries)})`);
      }

      const tail = [
        bounds.length ? ` Numbers without a live task: ${bounds.join('; ')}.` : '',
        scope.length ? ` Scope: ${scope.join('; ')}.` : '',
        notSeen.length ? ` Not observed in this run: ${notSeen.join('; ')}.` : '',
      ].join('');
      if (limits.length) {
        return {
          verdict: 'nuanced',
          explanation: `${held} But not for every PID: ${limits.join('; ')}.${tail}`,
          summary: oneLine('Not for every PID: ', limitBriefs),
        };
      }
      const enteredBy = `from C (${plural(hidden.length, 'TID')}) and with cd in ${both(shells.map((s) => s.shell))}`;
      return {
        verdict: 'confirmed',
        explanation: `${held}${tail}`,
        summary: `Thread TIDs absent from ls /proc were entered ${enteredBy}, each reaching the thread's own entry.`,
      };
    },
  },
];
