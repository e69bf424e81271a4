/**
 * --probe-wrapper (helpers/harness/probe.ts, scripts/report.ts): the named
 * wrappers, the words a command becomes, and the one variable that carries
 * them to every probe. One real probe run under qemu-user when it is
 * installed (a 0.1 s spawn): the probe's records come through the emulator.
 */
import { describe, expect, test } from 'vitest';
import { needs } from '../../helpers/harness/needs.js';
import { PROBE_WRAP_VARIABLE, PROBE_WRAPPERS, probeWrap, probeWrapperWords, runProbe } from '../../helpers/harness/probe.js';
import { runCommand } from '../../helpers/cli.js';
import { command } from '../../scripts/report.js';

/** Run `fn` with CLONELAB_PROBE_WRAP set to these words, restoring it after. */
async function wrapped<T>(words: string[], fn: () => Promise<T>): Promise<T> {
  const before = process.env[PROBE_WRAP_VARIABLE];
  process.env[PROBE_WRAP_VARIABLE] = JSON.stringify(words);
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[PROBE_WRAP_VARIABLE];
    else process.env[PROBE_WRAP_VARIABLE] = before;
  }
}

describe('--probe-wrapper', () => {
  test('qemu-user names the emulator of this machine', () => {
    const qemu = PROBE_WRAPPERS['qemu-user']!;
    if (process.arch === 'x64') expect(qemu.words()).toEqual(['qemu-x86_64']);
    else if (process.arch === 'arm64') expect(qemu.words()).toEqual(['qemu-aarch64']);
    expect(probeWrapperWords(' qemu-user ')).toEqual(qemu.words());
  });

  test('a command is its words, split at whitespace; an empty one is refused', () => {
    expect(probeWrapperWords('env  FOO=1')).toEqual(['env', 'FOO=1']);
    expect(() => probeWrapperWords('  ')).toThrow(/the probe wrapper is empty/);
  });

  test('the report refuses a wrapper not on PATH before running anything', async () => {
    let err = '';
    const code = await runCommand(command, ['--probe-wrapper', 'clonelab-no-such-wrapper'], () => 0, { out: () => {}, err: (s) => (err += s) });
    expect(err).toContain('--probe-wrapper: clonelab-no-such-wrapper was not found on PATH');
    expect(code).not.toBe(0);
  });

  test('CLONELAB_PROBE_WRAP must be a JSON array of strings', async () => {
    await wrapped([], () => {
      process.env[PROBE_WRAP_VARIABLE] = '{"not": "an array"}';
      expect(() => probeWrap()).toThrow(/must be a JSON array of strings/);
      return Promise.resolve();
    });
  });
});

describe('a probe under qemu-user', needs({ cmds: ['qemu-x86_64'] }), () => {
  test.runIf(process.arch === 'x64')('the clone probe answers through the emulator, which refuses CLONE_VM alone (do_fork)', async () => {
    const run = await wrapped(['qemu-x86_64'], () => runProbe('clone', ['--try', 'clone:VM', '--try', 'clone:VM,FS,FILES,SIGHAND,THREAD,SYSVSEM']));
    const tries = run.records.filter((r) => r.event === 'try');
    // The kernel accepts CLONE_VM alone (copy_process() has no rule against it); qemu's do_fork() does not.
    expect(tries.map((t) => (t.event === 'try' ? t.result : ''))).toEqual(['EINVAL', 'ok']);
  });
});
