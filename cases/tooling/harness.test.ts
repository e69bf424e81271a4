/**
 * The harness itself: a probe that crashes, hangs, prints garbage or breaks
 * the protocol fails with a message naming it, and leaves no task behind.
 * A missing compiler stops the run with a message that says what to install.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { describe, expect, test } from 'vitest';
import { buildProbes, ProbeBuildError } from '../../helpers/harness/build.js';
import { ProbeFailure, Probe, runProbe, startProbe } from '../../helpers/harness/probe.js';
import { parseRecord } from '../../helpers/harness/records.js';
import { eventually } from '../../helpers/harness/poll.js';
import { runCommand } from '../../helpers/cli.js';
import { command as buildCommand, main as buildMain } from '../../scripts/build-probes.js';

/** Each misbehaviour, and what the failure message must say about it. */
const BROKEN = [
  { mode: 'garbage', says: /line 1 of stdout is not a valid record \(not JSON\): this is not json/ },
  { mode: 'unknown-event', says: /unknown record type "surprise"/ },
  { mode: 'bad-pid', says: /field "tids": expected a list of PIDs/ },
  { mode: 'truncated', says: /stdout ended in a truncated line/ },
  { mode: 'crash', says: /killed by SIGSEGV[\s\S]*stderr: selftest: about to crash/ },
  { mode: 'fail', says: /exited with status 1[\s\S]*"op":"selftest-operation","errno":"EPERM"/ },
  { mode: 'no-done', says: /exited 0 without its final "done" record/ },
  { mode: 'hang', says: /did not finish within 500 ms/, timeoutMs: 500 },
];

describe('a broken probe fails its test with a clear message', () => {
  test.for(BROKEN)('$mode', async ({ mode, says, timeoutMs }) => {
    const err = await runProbe('selftest', ['--mode', mode], { timeoutMs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeFailure);
    const message = (err as ProbeFailure).message;
    expect(message).toContain(`probe 'selftest --mode ${mode}' failed`);
    expect(message).toMatch(says);
  });
});

test('a well-behaved probe: records parsed exactly, strings escaped, "done" last', async () => {
  const r = await runProbe('selftest', ['--mode', 'ok']);
  expect(r.records).toEqual([{ event: 'note', text: 'a "quoted" name\twith a tab' }, { event: 'done' }]);
});

test('ready/release handshake: the probe waits until told to go on', async () => {
  const { probe, ready } = await startProbe('selftest', ['--mode', 'ready']);
  expect(ready.tids).toHaveLength(1);
  // Still alive while we hold it: its /proc entry exists.
  expect(existsSync(`/proc/${ready.tgid}`)).toBe(true);
  probe.send('no-such-command');
  const rejected = await probe.next('error');
  expect(rejected).toMatchObject({ op: 'command', errno: 'EINVAL', command: 'no-such-command' });
  const r = await probe.release();
  expect(r.records.at(-1)).toEqual({ event: 'done' });
});

test('stopping a hung probe kills and reaps its whole tree, children included', async () => {
  const { probe, ready } = await startProbe('selftest', ['--mode', 'hang-with-children']);
  expect(ready.tids).toHaveLength(4);
  for (const pid of ready.tids) expect(existsSync(`/proc/${pid}`)).toBe(true);
  await probe.stop();
  // Gone, not zombies: the reaper waited for each of them.
  const gone = (await eventually(() => [probe.reaperPid, ...ready.tids].every((pid) => !existsSync(`/proc/${pid}`)))).value;
  expect(gone, `tasks left: ${[probe.reaperPid, ...ready.tids].filter((p) => existsSync(`/proc/${p}`)).join(',')}`).toBe(true);
});

test('a probe that times out is killed and reaped with its children', async () => {
  const probe = new Probe('selftest', ['--mode', 'hang-with-children'], { timeoutMs: 300 });
  const ready = await probe.next('ready');
  const err = await probe.result().catch((e: unknown) => e);
  expect(String(err)).toMatch(/did not finish within 300 ms/);
  expect((await eventually(() => ready.tids.every((pid) => !existsSync(`/proc/${pid}`)))).value).toBe(true);
});

describe('record validation', () => {
  test.for([
    ['{"event":"ready","tgid":0,"tids":[1]}', /"tgid": expected a PID/],
    ['{"event":"ready","tgid":5000000,"tids":[1]}', /"tgid": expected a PID \(1\.\.4194304\)/],
    ['{"event":"ready","tgid":5}', /lacks field "tids"/],
    ['{"event":"done","extra":1}', /unknown field "extra"/],
    ['{"event":"error","op":"x","errno":"enosys","errnoValue":38}', /expected an errno name/],
    ['[1,2]', /not a JSON object/],
    ['{"no":"event"}', /unknown record type undefined/],
  ] as const)('%s', ([line, problem]) => {
    const r = parseRecord(line);
    expect('problem' in r && r.problem).toMatch(problem);
  });
});

describe('no C compiler', () => {
  test('buildProbes names the package to install', async () => {
    const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
    try {
      const err = await buildProbes({ env: { PATH: join(path, 'empty') }, root: path }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProbeBuildError);
      expect(String(err)).toMatch(/found none[\s\S]*apt-get install gcc/);
    } finally {
      await cleanup();
    }
  });

  test('the build command exits 1 with that message', async () => {
    // A PATH with no compiler: the command users run, through runCommand as the script runs it before exiting.
    const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
    try {
      let stderr = '';
      const exitCode = await runCommand(buildCommand, [], (v, io) => buildMain(v, io, { PATH: path, CC: '', CLONELAB_CACHE_DIR: path }), {
        out: () => {},
        err: (x) => (stderr += x),
      });
      expect(exitCode).toBe(1);
      expect(stderr).toMatch(/^build:probes: clonelab needs a C compiler[\s\S]*apt-get install gcc/);
    } finally {
      await cleanup();
    }
  });
});
