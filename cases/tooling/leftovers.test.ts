/**
 * No leftovers: a nested vitest run, interrupted with SIGINT or SIGTERM
 * while a test waits in the middle of a probe that has forked children, must
 * leave no process, thread or temporary directory behind. The nested run
 * goes under the reaper in --report-leftovers mode (a child subreaper: every
 * orphan of the run comes to it, so "ancestry is the run" is exact), with a
 * probe cache and TMPDIR of its own, so its tasks are told from ours by
 * their executable and start time. The two runs go at the same time, each
 * with its own cache, directory and reaper: nothing of one is visible to the
 * other's checks.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { dir as tmpDir } from 'tmp-promise';
import { inject, test } from 'vitest';
import { PROJECT_ROOT, VITEST } from '../../helpers/harness/paths.js';
import { leftoverProbeTasks } from '../../helpers/harness/leftovers.js';
import { eventually } from '../../helpers/harness/poll.js';
import { ifStillThere, readStat } from '../../helpers/harness/procfs.js';
import { identify, signalOwnTask } from '../../helpers/harness/own-tasks.js';

// Concurrent: each nested run mostly waits (for its probe, then for its
// interrupt to be handled), so the two overlap; they start no probe in this
// worker, so test-setup's afterEach(stopAllProbes) of one cannot touch the other.
test.concurrent.for(['SIGINT', 'SIGTERM'] as const)(
  'a run interrupted by %s in the middle of a probe leaves nothing behind',
  { timeout: 180_000 },
  async (signal, { expect }) => {
    const work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-leftovers-' });
    try {
      const cache = join(work.path, 'cache');
      const tmp = join(work.path, 'tmp');
      mkdirSync(tmp);
      const marker = join(work.path, 'marker.json');
      const probeDir = inject('probeDir');
      const reaper = join(probeDir, 'reaper');
      // The nested run's cache starts with a copy of this run's build (same sources,
      // compiler and flags, so the same hash directory: helpers/harness/build.ts),
      // so it does not compile every probe again. Its binaries still live under its
      // own cache, which is what tells its tasks from ours below.
      cpSync(probeDir, join(cache, 'probes', basename(probeDir)), { recursive: true });
      const run = execa(reaper, ['--report-leftovers', process.execPath, VITEST, 'run'], {
        cwd: PROJECT_ROOT,
        reject: false,
        env: {
          CLONELAB_PARENT: String(process.pid),
          CLONELAB_FIXTURE: 'cases/fixtures/hang-in-probe.fixture.ts',
          CLONELAB_FIXTURE_MARKER: marker,
          CLONELAB_CACHE_DIR: cache,
          CLONELAB_REPORT_DIR: join(work.path, 'reports'),
          TMPDIR: tmp,
        },
      });
      const startedAt = readStat(run.pid!).starttime;
      const ready = await eventually(() => existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { tids: number[]; tmp: string }), {
        ms: 90_000,
        everyMs: 50,
      });
      expect(ready.value, 'the fixture never got its probe ready').toBeTruthy();
      const { tids, tmp: fixtureTmp } = ready.value as { tids: number[]; tmp: string };
      expect(tids.every((t) => existsSync(`/proc/${t}`))).toBe(true);
      expect(existsSync(fixtureTmp)).toBe(true);

      // Interrupt vitest itself (the reaper's child), as Ctrl-C or a CI cancel does.
      const vitestPid = Number(readFileSync(`/proc/${run.pid}/task/${run.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      signalOwnTask(identify(vitestPid)!, signal);
      const r = await run;

      const leftovers = (r.stderr ?? '').split('\n').filter((l) => l.startsWith('clonelab-reaper: leftover'));
      expect(leftovers, 'tasks of the run that outlived it').toEqual([]);
      // Nothing anywhere runs a binary of the nested run's probe cache, started after the run began.
      const stray = existsSync(join(cache, 'probes'))
        ? readdirSync(join(cache, 'probes'))
            .flatMap((d) => leftoverProbeTasks(join(cache, 'probes', d)))
            .filter((t) => (ifStillThere(() => readStat(t.pid).starttime) ?? 0) >= startedAt)
        : [];
      expect(stray).toEqual([]);
      expect(tids.filter((t) => existsSync(`/proc/${t}`))).toEqual([]);
      expect(readdirSync(tmp).filter((f) => f.startsWith('clonelab-'))).toEqual([]);
    } finally {
      await work.cleanup();
    }
  },
);
