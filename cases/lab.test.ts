/**
 * The lab's experiments: the shape of what each prints (not the timings),
 * and the errors a person gets for a wrong experiment, option or number.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { describe, expect, test } from 'vitest';
import { runLab } from '../helpers/lab.js';

async function lab(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runLab(argv, (s) => (stdout += s), (s) => (stderr += s));
  return { code, stdout, stderr };
}

describe('experiments', () => {
  test('ids: one row per task, getpid the TGID everywhere, only the leader in ls /proc, every /proc/TID enterable', async () => {
    const r = await lab('ids', '--threads', '3', '--via', 'clone', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.tasks).toHaveLength(4);
    for (const t of d.tasks) {
      expect(t.rawGetpid).toBe(d.tgid);
      expect(t.statusPid).toBe(t.rawGettid);
      expect(t.enterable).toBe(true);
      expect(t.listedInProc).toBe(t.role === 'leader');
    }
    const table = await lab('ids', '--threads', '1');
    expect(table.stdout).toMatch(/^TID\s+role\s+getpid\(\)\s+SYS_getpid/m);
  });

  test('share: accepted or the errno, and what was shared', async () => {
    const ok = await lab('share', '--flags', 'VM,SIGHAND', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const rec = JSON.parse(ok.stdout).find((x: { event: string }) => x.event === 'share');
    expect(rec).toMatchObject({ accepted: true, memory: true, sighand: true, filesOpen: false });
    const refused = await lab('share', '--flags', 'THREAD');
    expect(refused.stdout).toMatch(/refused with EINVAL/);
  });

  test.for([
    { via: 'kill', target: 'thread', landed: 'shared', handled: true },
    { via: 'tgkill', target: 'thread', landed: 'target', handled: false },
    { via: 'tkill', target: 'leader', landed: 'target', handled: false },
  ])('signal --via $via --target $target: queued $landed', async ({ via, target, landed, handled }) => {
    const r = await lab('signal', '--via', via, '--target', target, '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ result: 'ok', landed });
    expect(d.handlerTid === d.unblockedIn).toBe(handled);
  });

  test('whois: a kernel thread if one is visible, this process, and a PID nobody has', async () => {
    const self = JSON.parse((await lab('whois', String(process.pid), '--json')).stdout);
    expect(self.kind).toBe('thread-group-leader');
    const none = JSON.parse((await lab('whois', '4194304', '--json')).stdout);
    expect(none).toMatchObject({ kind: 'not-visible', lookup: 'ENOENT', signal0: 'ESRCH' });
  });

  test('bench --quick: a row per mechanism and per memory size, bench.json and an SVG chart', async () => {
    const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
    try {
      const r = await lab('bench', '--quick', '--out', path, '--json');
      expect(r.code, r.stderr).toBe(0);
      const d = JSON.parse(r.stdout);
      expect(d.mechanisms.map((m: { mechanism: string }) => m.mechanism)).toEqual(['fork', 'vfork', 'posix_spawn', 'clone-fork', 'clone-vm', 'clone-thread', 'pthread']);
      for (const m of d.mechanisms) expect(m.p10Ns).toBeLessThanOrEqual(m.medianNs);
      expect(d.forkMemory.map((m: { mib: number }) => m.mib)).toEqual([1, 8]);
      expect(JSON.parse(readFileSync(join(path, 'bench.json'), 'utf8')).mechanisms).toHaveLength(7);
      const svg = readFileSync(join(path, 'bench.svg'), 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/href=|<image|@import/); // renders without network
      expect(svg).toContain('<polyline');
    } finally {
      await cleanup();
    }
  });
});

describe('errors: one line, the valid choices, exit status 2', () => {
  test.for([
    { argv: ['nope'], says: /unknown experiment 'nope' \(valid: ids, share, signal, whois, bench\)/ },
    { argv: ['ids', '--bogus'], says: /unknown option '--bogus' \(valid: --threads, --via\)/ },
    { argv: ['ids', '--threads', 'x'], says: /--threads takes a whole number from 0 to 1024, got 'x'/ },
    { argv: ['ids', '--threads', '5000'], says: /from 0 to 1024, got '5000'/ },
    { argv: ['ids', '--via', 'fork'], says: /--via must be one of pthread, clone, got 'fork'/ },
    { argv: ['signal', '--via', 'sigqueue'], says: /--via must be one of kill, tgkill, tkill, pidfd/ },
    { argv: ['share', '--flags', 'VM,BOGUS'], says: /unknown clone flag 'BOGUS' \(known: VM,FS,FILES/ },
    { argv: ['whois'], says: /give exactly one PID/ },
    { argv: ['whois', '-5x'], says: /unknown option|is not a PID/ },
    { argv: ['whois', 'abc'], says: /'abc' is not a PID/ },
    { argv: ['bench', '--fork-mib', '1,x'], says: /--fork-mib takes a whole number/ },
  ])('lab $argv', async ({ argv, says }) => {
    const r = await lab(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('--help lists the experiments, and each has its own', async () => {
    const all = await lab('--help');
    expect(all.code).toBe(0);
    for (const e of ['ids', 'share', 'signal', 'whois', 'bench']) expect(all.stdout).toContain(`  ${e}`);
    expect((await lab('bench', '--help')).stdout).toMatch(/--iterations.*--fork-mib/s);
  });
});

test('bench with an output directory that cannot be written: a clear error, status 1', async () => {
  const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
  try {
    const blocker = join(path, 'a-file');
    writeFileSync(blocker, 'x');
    const r = await lab('bench', '--quick', '--out', join(blocker, 'sub'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lab bench: cannot write .*a-file\/sub.* \((ENOTDIR|EEXIST)\); choose another --out/);
  } finally {
    await cleanup();
  }
});
