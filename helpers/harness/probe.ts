/**
 * The one way clonelab runs a probe: under native-helpers/reaper.c (a child
 * subreaper that runs the probe in a process group of its own and reaps its
 * whole tree), with a deadline, every stdout line validated as a record, and
 * everything killed and reaped on success, failure or timeout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { buildRecord, ProbeNotBuilt } from './build.js';
import { parseRecord, type ProbeRecord, type ProbeRecordOf, type RecordType } from './records.js';
import { signalOwnChild, signalOwnChildGroup } from './own-tasks.js';

let probeDir: string | undefined;

/** Tell the runner where the built probes are (helpers/harness/build.ts made them). */
export function configureProbes(dir: string): void {
  probeDir = dir;
}

/** The directory of built probes (for checks on who may execute them). */
export function probeDirectory(): string {
  if (!probeDir) throw new Error('probes are not built: call configureProbes() (vitest global setup does) first');
  return probeDir;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

/**
 * Built-in wrappers by name: `--probe-wrapper qemu-user` is qemu's user-mode
 * emulator for this machine's own architecture (Debian's qemu-user package),
 * so the probes' system calls are the emulator's translation of them
 * (linux-user/syscall.c) rather than the kernel's direct answers. Keyed by
 * Node's process.arch; the binary names are those qemu-user installs.
 */
const QEMU_USER_BINARY: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'qemu-x86_64',
  ia32: 'qemu-i386',
  arm64: 'qemu-aarch64',
  arm: 'qemu-arm',
  riscv64: 'qemu-riscv64',
  ppc64: 'qemu-ppc64le',
  s390x: 'qemu-s390x',
  loong64: 'qemu-loongarch64',
};

/** The named wrappers `--probe-wrapper NAME` knows, each giving its command's words. */
export const PROBE_WRAPPERS: Record<string, { describe: string; words: () => string[] }> = {
  'qemu-user': {
    describe: "qemu's user-mode emulator of this machine's architecture (Debian: qemu-user)",
    words: () => {
      const bin = QEMU_USER_BINARY[process.arch];
      if (!bin) throw new Error(`no qemu-user emulator is known for the architecture ${process.arch} (known: ${Object.keys(QEMU_USER_BINARY).join(', ')})`);
      return [bin];
    },
  },
};

/**
 * The words of a --probe-wrapper value: a built-in name (PROBE_WRAPPERS) or a
 * command split at whitespace (no shell quoting: a word with a space needs
 * CLONELAB_PROBE_WRAP's JSON form).
 */
export function probeWrapperWords(spec: string): string[] {
  const named = PROBE_WRAPPERS[spec.trim()];
  if (named) return named.words();
  const words = spec.trim().split(/\s+/).filter(Boolean);
  if (!words.length)
    throw new Error('the probe wrapper is empty: give a command (e.g. "qemu-x86_64") or a name (' + Object.keys(PROBE_WRAPPERS).join(', ') + ')');
  return words;
}

/** The variable that carries the wrapper to every process of a run (vitest's workers, nested suites). */
export const PROBE_WRAP_VARIABLE = 'CLONELAB_PROBE_WRAP';

/**
 * A command put right before every probe binary, from CLONELAB_PROBE_WRAP (a
 * JSON array of words): `npm run report -- --probe-wrapper` sets it to run
 * every probe under an emulator, and `npm run check:faults` to run each
 * probe, and only the probes, under a seccomp filter (native-helpers/fault.c).
 * It must exec the probe or run it as its own process image (qemu-user loads
 * the probe into its own process: same PID), so the probe stays what the
 * reaper runs. Every probe of the run goes through here (lookup, the lab and
 * the ps and strace cases included): this is the one place.
 */
export function probeWrap(): string[] {
  const raw = process.env[PROBE_WRAP_VARIABLE];
  if (!raw) return [];
  const words: unknown = JSON.parse(raw);
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string'))
    throw new Error(`${PROBE_WRAP_VARIABLE} must be a JSON array of strings, got ${raw}`);
  return words.map((w) => w.replaceAll('{probeDir}', probeDir ?? ''));
}

export interface ProbeOptions {
  /** Kill the probe's whole group after this long (default 15 s). */
  timeoutMs?: number;
  /**
   * A command that execs the probe, put between the reaper and it: e.g.
   * setpriv to run it as another user, unshare for another namespace. It
   * must exec (not fork) so the probe stays the reaper's child.
   */
  prefix?: string[];
  /** The prefix runs the probe as its child (strace does): the probe's parent is not the reaper. */
  prefixForks?: boolean;
}

/** A probe that crashed, hung, exited non-zero, or broke the protocol. */
export class ProbeFailure extends Error {
  override name = 'ProbeFailure';
  constructor(
    readonly probe: string,
    readonly args: readonly string[],
    readonly reason: string,
    readonly details: { exitCode?: number; signal?: string; stderr: string; records: ProbeRecord[] },
  ) {
    const lastError = [...details.records].reverse().find((r) => r.event === 'error');
    super(
      [
        `probe '${[probe, ...args].join(' ')}' failed: ${reason}`,
        details.exitCode !== undefined ? `  exit status: ${details.exitCode}` : undefined,
        details.signal ? `  killed by signal: ${details.signal}` : undefined,
        lastError ? `  last error record: ${JSON.stringify(lastError)}` : undefined,
        `  stderr: ${details.stderr.trim() ? details.stderr.trim().split('\n').slice(-20).join('\n          ') : '(empty)'}`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
}

export interface ProbeResult {
  probe: string;
  args: string[];
  records: ProbeRecord[];
  stderr: string;
}

/** Probes still running, stopped if this process exits first. */
const live = new Set<Probe>();
process.once('exit', () => {
  for (const p of live) p.terminate();
});

/** How long a reaper may take to clean up after SIGTERM before its group gets SIGKILL. */
const REAPER_GRACE_MS = 3_000;

export class Probe {
  readonly records: ProbeRecord[] = [];
  /** PID of the reaper that runs this probe (the probe itself is its child). */
  readonly reaperPid: number;
  private readonly sub: ResultPromise;
  private problem: string | undefined;
  private pending = '';
  private readonly waiters = new Set<() => void>();
  private exited = false;
  private readonly deadline: NodeJS.Timeout;
  private grace: NodeJS.Timeout | undefined;
  private readonly finished: Promise<ProbeResult>;

  constructor(
    readonly name: string,
    readonly args: string[],
    opts: ProbeOptions = {},
  ) {
    if (!probeDir) throw new Error('probes are not built: call configureProbes() (vitest global setup does) first');
    const bin = join(probeDir, name);
    const unbuilt = existsSync(bin) ? undefined : buildRecord(probeDir)?.unbuilt[name];
    if (unbuilt) throw new ProbeNotBuilt(unbuilt);
    if (!existsSync(bin)) throw new Error(`no probe named '${name}' in ${probeDir}: is native-helpers/${name}.c there?`);
    this.sub = execa(join(probeDir, 'reaper'), [...(opts.prefix ?? []), ...probeWrap(), bin, ...args], {
      // setsid(): a terminal's SIGINT to the test runner's group does not hit
      // probes mid-experiment; the reaper's PR_SET_PDEATHSIG covers our death.
      detached: true,
      stdin: 'pipe',
      buffer: { stdout: false, stderr: true },
      reject: false,
      stripFinalNewline: false,
      env: { CLONELAB_PARENT: String(process.pid), ...(opts.prefixForks ? { CLONELAB_PARENT_CHECK: 'skip' } : {}) },
    });
    if (this.sub.pid === undefined) throw new Error(`could not start probe ${name}`);
    this.reaperPid = this.sub.pid;
    live.add(this);
    this.sub.stdout!.setEncoding('utf8');
    this.sub.stdout!.on('data', (chunk: string) => this.take(chunk));
    this.sub.stdin!.on('error', () => {
      /* EPIPE when the probe is already gone: its exit status tells the story */
    });
    // CLONELAB_PROBE_TIMEOUT_MS caps every deadline (fault runs, where a probe that lost a syscall may hang).
    const cap = Number(process.env.CLONELAB_PROBE_TIMEOUT_MS) || Infinity;
    const timeoutMs = Math.min(opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, cap);
    this.deadline = setTimeout(() => this.fail(`did not finish within ${timeoutMs} ms (hung?)`), timeoutMs);
    this.finished = this.settle();
    this.finished.catch(() => {}); // observed by whoever awaits; never an unhandled rejection
  }

  private take(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const parsed = parseRecord(line);
      if ('problem' in parsed) {
        this.fail(`line ${this.records.length + 1} of stdout is not a valid record (${parsed.problem}): ${line.slice(0, 200)}`);
        return;
      }
      this.records.push(parsed.record);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }

  private fail(problem: string): void {
    this.problem ??= problem;
    this.terminate();
    this.notify();
  }

  /**
   * Ask the reaper to kill the probe's tree and reap it (SIGTERM: it is the
   * only signal the harness sends, and only to a reaper it started). Should
   * the reaper not be done after a grace period, SIGKILL its group.
   */
  terminate(): void {
    if (this.exited) return;
    try {
      signalOwnChild(this.reaperPid, 'SIGTERM');
    } catch {
      return; /* ESRCH: already gone */
    }
    this.grace ??= setTimeout(() => {
      if (!this.exited) {
        try {
          signalOwnChildGroup(this.reaperPid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    }, REAPER_GRACE_MS).unref();
  }

  private async settle(): Promise<ProbeResult> {
    const r = await this.sub;
    this.exited = true;
    clearTimeout(this.deadline);
    clearTimeout(this.grace);
    live.delete(this);
    if (this.pending !== '' && !this.problem) this.problem = `stdout ended in a truncated line: ${this.pending.slice(0, 200)}`;
    this.notify();
    const details = {
      exitCode: r.exitCode,
      signal: r.signal,
      stderr: typeof r.stderr === 'string' ? r.stderr : '',
      records: this.records,
    };
    if (this.problem) throw new ProbeFailure(this.name, this.args, this.problem, details);
    if (r.signal) throw new ProbeFailure(this.name, this.args, `killed by ${r.signal}`, details);
    if (r.exitCode !== 0) throw new ProbeFailure(this.name, this.args, `exited with status ${r.exitCode}`, details);
    if (this.records.at(-1)?.event !== 'done') {
      throw new ProbeFailure(this.name, this.args, 'exited 0 without its final "done" record', details);
    }
    return { probe: this.name, args: this.args, records: this.records, stderr: details.stderr };
  }

  /** Resolves with the first record of this type; rejects if the probe ends or fails first. */
  next<E extends RecordType>(event: E): Promise<ProbeRecordOf<E>> {
    return this.nextWhere(event, () => true);
  }

  /** The first record of this type that satisfies `match`, waiting for it if need be. */
  async nextWhere<E extends RecordType>(event: E, match: (r: ProbeRecordOf<E>) => boolean): Promise<ProbeRecordOf<E>> {
    for (;;) {
      const hit = this.all(event).find(match);
      if (hit) return hit;
      if (this.problem || this.exited) {
        await this.finished;
        throw new ProbeFailure(this.name, this.args, `ended without the expected "${event}" record`, { stderr: '', records: this.records });
      }
      await new Promise<void>((resolve) => {
        const w = () => {
          this.waiters.delete(w);
          resolve();
        };
        this.waiters.add(w);
      });
    }
  }

  /** All records of one type seen so far. */
  all<E extends RecordType>(event: E): ProbeRecordOf<E>[] {
    return this.records.filter((r) => r.event === event) as ProbeRecordOf<E>[];
  }

  /** Send one command line to the probe's stdin. */
  send(command: string): void {
    this.sub.stdin!.write(`${command}\n`);
  }

  /** Let a probe waiting after "ready" go on, and wait for it to finish cleanly. */
  async release(): Promise<ProbeResult> {
    this.send('release');
    return this.finished;
  }

  /** Wait for the probe to finish cleanly (for probes that need no command). */
  async result(): Promise<ProbeResult> {
    return this.finished;
  }

  /** Kill the group and wait until the probe is reaped; never throws. */
  async stop(): Promise<void> {
    if (!this.exited) this.fail('stopped by the harness');
    await this.finished.catch(() => {});
  }
}

/** Start a probe that announces live tasks, and wait for its "ready" record. */
export async function startProbe(name: string, args: string[] = [], opts?: ProbeOptions): Promise<{ probe: Probe; ready: ProbeRecordOf<'ready'> }> {
  const probe = new Probe(name, args, opts);
  try {
    return { probe, ready: await probe.next('ready') };
  } catch (e) {
    await probe.stop();
    throw e;
  }
}

/** Run a probe to completion: its validated records, or a ProbeFailure. */
export async function runProbe(name: string, args: string[] = [], opts?: ProbeOptions): Promise<ProbeResult> {
  return new Probe(name, args, opts).result();
}

/** Stop every probe still running (test teardown). */
export async function stopAllProbes(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}
