/**
 * The proc-visibility claim family: what cases/proc-visibility.test.ts observes, and the rules
 * of A11, A12, A13 over it.
 */
import type { Claim, ObservationIndex, Usable } from '../claims.js';
import { whereFrom } from './kernel-threads.js';
import { list } from './prose.js';

/** CPU-time fields of one stat file (proc(5) fields 14, 15, 20), in clock ticks. */
export interface CpuFields {
  pid: number;
  utime: number;
  stime: number;
  numThreads: number;
}

/** One /proc lookup made by the lookup probe: each step "ok" or an errno name. */
export interface LookupOutcome {
  path: string;
  stat: string;
  open: string;
  chdir: string;
  cwd: string;
  /** Name/Tgid/Pid/NSpid lines of PATH/status, as read there. */
  statusIds: string;
  uid: number;
}

export interface ProcVisibilityObservations {
  /** One readdir(3) of /proc, and one of /proc/TGID/task, while a probe held its threads alive. */
  procListing: {
    threads: number;
    tgid: number;
    tids: number[];
    tgidListed: boolean;
    /** Non-leader TIDs that the /proc listing did contain (should be none). */
    nonLeaderListed: number[];
    taskDir: number[];
    /** Where /proc/self and /proc/thread-self pointed, read by each task itself. */
    selfLinks: { tid: number; procSelf: string; procThreadSelf: string }[];
  };
  /** Every numeric entry of one /proc listing, its status read: Tgid = Pid? */
  procListingScan: {
    entries: number;
    checked: number;
    tgidEqualsPid: number;
    mismatches: { entry: number; tgid: number; pid: number }[];
    /** Entries gone between the listing and the read of their status. */
    vanished: number;
  };
  /** A non-leader TID, absent from the /proc listing, looked up directly from C. */
  hiddenTidLookup: {
    tgid: number;
    tid: number;
    listedInProc: boolean;
    lookup: LookupOutcome;
    statusPid: number;
    statusTgid: number;
    /** Numeric names in /proc/TID/task. */
    taskDirViaTid: number[];
    cpu: { viaTid: CpuFields; viaTaskDir: CpuFields; group: CpuFields };
  };
  /** `cd /proc/TID` for a non-leader TID, in a real shell. */
  shellCd: {
    shell: string;
    shellPath: string;
    tid: number;
    tgid: number;
    exitCode: number;
    pwd: string;
    statusPid: number;
    statusTgid: number;
    /** `ls /proc | grep -x TID`: exit 1 and no output when the TID is not listed. */
    lsGrepExit: number;
    lsGrepOut: string;
  };
  /** /proc/TID after the thread exited and was joined, polled until it went away. */
  exitedTidLookup: { tid: number; tgid: number; lookup: LookupOutcome; polls: number; ms: number };
  /** A number no task can have: /proc/sys/kernel/pid_max itself (PIDs are below it). */
  unusedPidLookup: { pid: number; pidMax: number; lookup: LookupOutcome };
  /** Tasks in a child PID namespace, looked up from outside by their inner PIDs. */
  pidnsInnerLookup: {
    userns: boolean;
    tasks: { role: string; innerPid: number; outerPid: number; outside: LookupOutcome; sameTask: boolean }[];
  };
  /** /proc mounted with hidepid in a private mount namespace, read by an unprivileged user. */
  hidepidLookup: {
    mountOption: string;
    uid: number;
    tgid: number;
    tid: number;
    hidden: LookupOutcome[];
    /** The same lookups as the same user on a /proc mounted without hidepid. */
    control: LookupOutcome[];
  };
}

export const PROC_VISIBILITY_CLAIMS: Claim[] = [
  {
    id: 'A11',
    source: 'answer 1',
    statement: 'The numeric directories that `ls /proc` lists are TGIDs.',
    needs: ['procListing', 'procListingScan'],
    decide(o) {
      const listings = o.all('procListing').map((l) => l.result);
      const scans = o.all('procListingScan').map((x) => x.result);
      const leaked = listings.flatMap((l) => l.nonLeaderListed);
      const mismatches = scans.flatMap((x) => x.mismatches);
      const missingTgid = listings.filter((l) => !l.tgidListed).map((l) => l.tgid);
      if (leaked.length || mismatches.length) {
        return {
          verdict: 'refuted',
          explanation: `The /proc listing held entries that are not TGIDs: ${leaked.length ? `non-leader TIDs ${list(leaked)}` : ''}${leaked.length && mismatches.length ? '; ' : ''}${mismatches.length ? `entries whose status had Tgid != Pid: ${list(mismatches.map((m) => `${m.entry} (Tgid ${m.tgid}, Pid ${m.pid})`))}` : ''}.`,
        };
      }
      const scan = scans[0]!;
      return {
        verdict: 'confirmed',
        explanation: `In one readdir of /proc, all ${scan.checked} numeric entries that could be read had Tgid = Pid = the entry's name (${scan.vanished} of ${scan.entries} vanished between the listing and the read). With probes holding ${listings.map((l) => l.threads).join(', ')} threads alive, the TGID was listed${missingTgid.length ? ` (except ${list(missingTgid)})` : ''} and none of their ${listings.reduce((n, l) => n + l.tids.length - 1, 0)} non-leader TIDs was.`,
      };
    },
  },

  {
    id: 'A12',
    source: 'answer 1',
    statement: 'The numeric directories in /proc/TGID/task are the PIDs of the tasks of that group.',
    needs: ['procListing'],
    decide(o) {
      const listings = o.all('procListing').map((l) => l.result);
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b).join();
      const wrong = listings.filter((l) => sorted(l.taskDir) !== sorted(l.tids));
      if (wrong.length) {
        return {
          verdict: 'refuted',
          explanation: `/proc/TGID/task did not list the group's TIDs: ${wrong.map((l) => `TGID ${l.tgid} listed [${list(l.taskDir)}], the tasks said [${list(l.tids)}]`).join('; ')}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `For groups of ${listings.map((l) => l.tids.length).join(', ')} tasks, /proc/TGID/task listed exactly the TIDs the tasks got from gettid(), no more, no fewer.`,
      };
    },
  },

  {
    id: 'A13',
    source: 'answer 1',
    statement: 'A PID that `ls /proc` does not list can still be entered with `cd /proc/PID`.',
    needs: ['hiddenTidLookup', 'shellCd'],
    uses: ['exitedTidLookup', 'unusedPidLookup', 'pidnsInnerLookup', 'hidepidLookup', 'vantage', 'pidNamespaces'],
    decide(o) {
      const hidden = o.all('hiddenTidLookup').map((h) => h.result);
      const shells = o.all('shellCd').map((x) => x.result);
      const failedC = hidden.filter((h) => !(h.lookup.stat === 'ok' && h.lookup.open === 'ok' && h.lookup.chdir === 'ok'));
      const failedShell = shells.filter((x) => x.exitCode !== 0 || x.pwd !== `/proc/${x.tid}`);
      if (failedC.length || failedShell.length) {
        return {
          verdict: 'refuted',
          explanation: `Entering an unlisted TID failed: ${[
            ...failedC.map((h) => `from C, /proc/${h.tid}: stat ${h.lookup.stat}, open ${h.lookup.open}, chdir ${h.lookup.chdir}`),
            ...failedShell.map((x) => `${x.shell} (${x.shellPath}) exited ${x.exitCode} for cd /proc/${x.tid}`),
          ].join('; ')}.`,
        };
      }
      const held = `Held: non-leader TIDs ${list(hidden.map((h) => h.tid))}, absent from the /proc listing, were reached from C (stat, open and chdir succeeded, and status there said Pid = TID, Tgid = TGID) and with cd in ${shells.map((x) => `${x.shell} (${x.shellPath})`).join(' and ')}.`;
      const bounds: string[] = [];
      for (const e of o.all('exitedTidLookup')) bounds.push(`a TID that had exited and been joined gave ${e.result.lookup.stat} (gone ${e.result.ms} ms after the join)`);
      for (const u of o.all('unusedPidLookup')) bounds.push(`a number no task can have (pid_max ${u.result.pidMax}) gave ${u.result.lookup.stat}`);
      const limits: string[] = [];
      for (const n of o.all('pidnsInnerLookup')) {
        const other = n.result.tasks.filter((t) => !t.sameTask);
        if (other.length) {
          limits.push(`tasks in a child PID namespace are not reachable by their inner PIDs from outside: ${other
            .map((t) => `inner ${t.innerPid} (outer ${t.outerPid}) -> /proc/${t.innerPid} ${t.outside.stat === 'ok' ? `is another task, "${t.outside.statusIds.match(/Name:\s*(.*)/)?.[1] ?? '?'}"` : t.outside.stat}`)
            .join(', ')}`);
        }
      }
      for (const h of o.all('hidepidLookup')) {
        const blocked = h.result.hidden.filter((l) => l.stat !== 'ok' || l.chdir !== 'ok');
        if (blocked.length) {
          limits.push(`on a /proc mounted ${h.result.mountOption}, uid ${h.result.uid} got ${blocked.map((l) => `${l.chdir} for ${l.path}`).join(', ')} (another user's process and its hidden thread), where a plain /proc let the same user in (${h.result.control.map((l) => `${l.path}: ${l.chdir}`).join(', ')})`);
        }
      }
      const notSeen = [
        o.has('pidnsInnerLookup') ? undefined : 'PID namespaces (their test was skipped)',
        o.has('hidepidLookup') ? undefined : 'hidepid mounts (their test was skipped)',
      ].filter(Boolean);
      for (const v of o.all('vantage')) bounds.push(`this run looked from ${whereFrom(v.result)} through a /proc mounted "${v.result.procMountOptions}"`);
      const innerProc = o.all('pidNamespaces').find((n) => n.result.innerProcEntries)?.result;
      if (innerProc) limits.push(`a /proc mounted inside a child PID namespace listed only that namespace's tasks ([${innerProc.innerProcEntries!.join(', ')}]), so what "any PID" covers depends on which namespace's /proc you stand in`);
      const tail = `${bounds.length ? ` As expected for tasks that do not exist, ${bounds.join('; ')}.` : ''}${notSeen.length ? ` Not observed in this run: ${notSeen.join(', ')}.` : ''}`;
      if (limits.length) {
        return { verdict: 'nuanced', explanation: `${held} But "any PID" means any PID of a task in the /proc mount's PID namespace that the mount lets this user see: ${limits.join('; ')}.${tail}` };
      }
      return { verdict: 'confirmed', explanation: `${held}${tail}` };
    },
  },
];
