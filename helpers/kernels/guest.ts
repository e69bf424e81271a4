/**
 * Boots one Debian kernel under QEMU, runs the claim-bearing cases inside
 * (not the tests of clonelab itself, which say nothing of the kernel), and
 * collects its claims.json. KVM when it works, TCG otherwise; a deadline
 * kills a guest that panics or hangs. A guest of the host's architecture
 * shares the host's root read-only over 9p; one of another architecture
 * (arm64 on an x86_64 host) cannot run the host's node or libraries, so its
 * root is the cached userspace of helpers/kernels/userspace.ts, with the
 * project and its node_modules (under the bindings for its CPU) shared at
 * the same paths as on the host (guestLayout). What differs by architecture
 * comes from helpers/kernels/machine.ts; the launch, reporter, results share,
 * breakdown and progress are this one code path for every guest.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { CLAIM_CASE_FILES } from '../claims/families.js';
import { PROJECT_ROOT } from '../harness/paths.js';
import { computeBreakdown, stampCommand, type Breakdown, type GuestTiming } from './breakdown.js';
import { buildInitramfs, HOST_ROOT_SHARES, shellQuote, type GuestShare } from './initramfs.js';
import { kernelCommandLine, kvmPossible, MACHINES, qemuMachineArgs, type Machine } from './machine.js';
import { PROGRESS_FILE } from './progress.js';
import type { Userspace } from './userspace.js';

/**
 * Host directories the guest has no business reading: mounted empty inside
 * it. Any that holds the project or node is kept, or the suite could not run.
 */
export function pathsToHide(nodePath: string): { dirs: string[]; files: string[] } {
  // node_modules may be a symlink out of the checkout (a git worktree sharing
  // another checkout's): its target is kept too.
  const modules = join(PROJECT_ROOT, 'node_modules');
  const keep = [PROJECT_ROOT, dirname(nodePath), ...(existsSync(modules) ? [realpathSync(modules)] : [])];
  const candidates = ['/root', '/home', '/var', '/run', '/srv', '/mnt', '/media', '/opt', '/boot', '/etc/ssh', '/etc/ssl/private', '/work', '/tmp'];
  const dirs = candidates.filter((d) => existsSync(d) && !keep.some((k) => k === d || k.startsWith(`${d}/`)));
  // Under a kept parent (the project's /work, say), hide its siblings instead.
  for (const k of keep) {
    for (const parent of candidates.filter((d) => k.startsWith(`${d}/`))) {
      for (const sib of readdirSync(parent)) {
        const p = join(parent, sib);
        if (!keep.some((x) => x === p || x.startsWith(`${p}/`))) {
          try {
            if (readdirSync(p)) dirs.push(p);
          } catch {
            /* not a directory */
          }
        }
      }
    }
  }
  return { dirs: [...new Set(dirs)], files: ['/etc/shadow', '/etc/gshadow', '/etc/sudoers'] };
}

/** What a guest's root is made of, and where its node and busybox are. */
export interface GuestLayout {
  /** The 9p shares: tag, host directory, place in the guest (the first is the guest's root). */
  shares: (GuestShare & { host: string })[];
  /** Node's path in the guest. */
  node: string;
  /** The static busybox put in the initramfs (undefined: the host's, found by buildInitramfs). */
  busybox?: string;
  /** Host paths mounted empty in the guest (only when the host's root is the guest's). */
  hide: { dirs: string[]; files: string[] };
}

/**
 * The guest's root: the host's own for a guest of the host's architecture
 * (no userspace given); else the userspace's root, with the project at its
 * host path and node_modules (a worktree's may be a symlink out of the
 * checkout: its target is shared at its own path, so the symlink resolves
 * in the guest too) under the overlay of the guest CPU's native bindings.
 */
export function guestLayout(userspace?: Pick<Userspace, 'root' | 'nodeModulesOverlay' | 'node' | 'busybox'>, projectRoot = PROJECT_ROOT): GuestLayout {
  if (!userspace) {
    const node = process.execPath;
    return { shares: HOST_ROOT_SHARES.map((s) => ({ ...s, host: '/' })), node, hide: pathsToHide(node) };
  }
  const modules = join(projectRoot, 'node_modules');
  const modulesReal = existsSync(modules) ? realpathSync(modules) : modules;
  return {
    shares: [
      { tag: 'root', at: '/', host: userspace.root },
      { tag: 'project', at: projectRoot, host: projectRoot },
      { tag: 'nm', at: modulesReal, host: modulesReal, above: ['nmo'] },
      { tag: 'nmo', at: modulesReal, host: userspace.nodeModulesOverlay },
    ],
    node: userspace.node,
    busybox: userspace.busybox,
    hide: { dirs: [], files: [] },
  };
}

/**
 * QEMU's command line for a guest: the machine table's part
 * (helpers/kernels/machine.ts) and the rest, which every architecture shares.
 * Each share is read-only; the results share is the one the guest writes.
 */
export function qemuCommand(o: {
  machine: Machine;
  accel: 'kvm' | 'tcg';
  memoryMb: number;
  /** Virtual CPUs (guestCpus). */
  vcpus: number;
  consoleLog: string;
  kernel: string;
  initrd: string;
  shares: GuestLayout['shares'];
  results: string;
}): { file: string; args: string[] } {
  // Without multidevs=remap the guest's /proc mount silently fails on a shared /.
  const virtfs = (path: string, tag: string, ro: boolean) => [
    '-virtfs',
    `local,path=${path},mount_tag=${tag},security_model=none,${ro ? 'readonly=on,' : ''}multidevs=remap`,
  ];
  return {
    file: o.machine.qemu,
    args: [
      '-nodefaults',
      '-no-user-config',
      ...qemuMachineArgs(o.machine, o.accel),
      '-smp',
      String(o.vcpus),
      '-m',
      String(o.memoryMb),
      '-display',
      'none',
      '-no-reboot',
      '-serial',
      `file:${o.consoleLog}`,
      '-kernel',
      o.kernel,
      '-initrd',
      o.initrd,
      '-append',
      kernelCommandLine(o.machine),
      // Each host directory once, even where two shares are laid at one place (nm under nmo).
      ...o.shares.flatMap((s) => virtfs(s.host, s.tag, true)),
      ...virtfs(o.results, 'results', false),
    ],
  };
}

/**
 * How many vCPUs each guest gets when `jobs` guests run at once on `cores`
 * host CPUs: no more than its share, at least one. Under TCG each vCPU is a
 * host thread translating guest code, so guests whose vCPUs outnumber the
 * cores only take turns and pay for it: the four default kernels with -j 2
 * on 2 cores took 234.6 s with 2 vCPUs (and 2 vitest workers) each, 184.0 s
 * with 1 vCPU (2 workers) and 146.7 s with 1 vCPU and 1 worker (bench:kernels,
 * paired runs on an idle machine). Alone on 2 cores a guest keeps 2 vCPUs:
 * 51.2 s with 2 workers, 49.4 s with 1, against 61.8 s with 1 vCPU.
 */
export function guestCpus(jobs: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, jobs)));
}

/**
 * vitest's flags in a guest: one worker per vCPU (more only take turns on
 * them and lengthen each probe's hold time: a 5.10 guest on a loaded host ran
 * the ps case past its 15 s probe deadline with four workers on two vCPUs).
 * CLONELAB_GUEST_VITEST_FLAGS replaces them, to measure another choice
 * (`npm run bench:kernels` on a paired run; breakdown.md says where time went).
 */
export function guestVitestFlags(vcpus: number, env: NodeJS.ProcessEnv = process.env): string[] {
  return env.CLONELAB_GUEST_VITEST_FLAGS?.split(/\s+/).filter(Boolean) ?? [`--maxWorkers=${vcpus}`];
}

export interface GuestResult {
  status: 'passed' | 'failed' | 'hung' | 'broken';
  seconds: number;
  /** Path of the guest's claims.json, when it wrote one. */
  report?: string;
  suiteExit?: number;
  why?: string;
  consoleTail: string;
  /** Where the time went (helpers/kernels/breakdown.ts). */
  breakdown: Breakdown;
}

export async function runGuest(opts: {
  label: string;
  vmlinuz: string;
  modulesDir: string;
  workDir: string;
  timeoutMs: number;
  accel: 'kvm' | 'tcg';
  /** The guest's machine (default x86_64). */
  machine?: Machine;
  /** The root for a guest of another architecture than the host's (helpers/kernels/userspace.ts); without it, the host's root. */
  userspace?: Userspace;
  hang?: boolean;
  memoryMb?: number;
  /** Virtual CPUs (default guestCpus(1): every host CPU). */
  vcpus?: number;
  /** The case files the guest runs, relative to the project root (default: every claim-bearing one). */
  caseFiles?: readonly string[];
  /** Called as QEMU is started, with the results share its suite writes into (helpers/kernels/progress.ts watches it). */
  onPhase?: (e: { phase: 'booting'; results: string }) => void;
  /**
   * The probe build the host made for the userspace the guest shares
   * (buildProbes().dir): the guest checks it and uses it instead of running
   * the compiler under emulation (helpers/harness/build.ts, CLONELAB_PROBE_DIR).
   */
  probeDir?: string;
}): Promise<GuestResult> {
  const t0 = Date.now();
  const results = join(opts.workDir, 'results');
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const consoleLog = join(opts.workDir, 'console.log');
  const machine = opts.machine ?? MACHINES.x86_64;
  const vcpus = opts.vcpus ?? guestCpus(1);
  if (!opts.userspace && !kvmPossible(machine))
    throw new Error(`a ${machine.arch} guest cannot use this ${process.arch} host's root: give it a userspace (helpers/kernels/userspace.ts prepareUserspace)`);
  const layout = guestLayout(opts.userspace);
  const node = layout.node;
  const env = [
    'HOME=/tmp',
    'CI=true',
    `PATH=${dirname(node)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    `CLONELAB_ENVIRONMENT=${shellQuote(`guest ${opts.label}`)}`,
    'CLONELAB_REPORT_DIR=/clonelab-results',
    // The report's runtime: what runs this suite around the kernel (helpers/harness/environment.ts).
    `CLONELAB_RUNTIME=${shellQuote(`QEMU ${machine.qemu} guest (${opts.accel === 'kvm' ? 'KVM' : 'TCG'}), ${opts.userspace ? 'a cached userspace root' : "the host's root read-only"}`)}`,
    // vitest.config.ts adds helpers/kernels/timing-reporter.ts when this is set.
    'CLONELAB_TIMING_FILE=/clonelab-results/timing.json',
    // ... and, through the same reporter, how far the run is (helpers/kernels/progress.ts reads it).
    `CLONELAB_PROGRESS_FILE=/clonelab-results/${PROGRESS_FILE}`,
    ...(opts.probeDir ? [`CLONELAB_PROBE_DIR=${shellQuote(opts.probeDir)}`] : []),
    // Node's flags for every node of the guest (vitest and its workers), to measure one (V8's tiers, heap sizes).
    ...(process.env.CLONELAB_GUEST_NODE_OPTIONS ? [`NODE_OPTIONS=${shellQuote(process.env.CLONELAB_GUEST_NODE_OPTIONS)}`] : []),
  ].join(' ');
  const bb = '/.clonelab/busybox';
  // The guest runs the claim-bearing cases only: the tests of clonelab itself
  // (reports, CLIs, rule tests) say nothing about the guest's kernel.
  const command = opts.hang
    ? 'echo "clonelab-guest: told to hang"; while :; do sleep 3600; done'
    : `${stampCommand('suite-start', bb)}; cd ${shellQuote(PROJECT_ROOT)} && env ${env} ${shellQuote(node)} node_modules/vitest/vitest.mjs run ${guestVitestFlags(vcpus).join(' ')} ${(opts.caseFiles ?? CLAIM_CASE_FILES).join(' ')} > /clonelab-results/suite.log 2>&1; echo $? > /clonelab-results/exit-status; ${stampCommand('suite-done', bb)}`;
  const initramfs = join(opts.workDir, 'initramfs.cpio');
  // Only the first of two shares laid at one place names it in /init: the other is its upper layer (`above`).
  const mounted = layout.shares.filter((s) => !layout.shares.some((o) => o.above?.includes(s.tag)));
  writeFileSync(
    initramfs,
    await buildInitramfs({
      modulesDir: opts.modulesDir,
      command,
      hide: layout.hide.dirs,
      hideFiles: layout.hide.files,
      shares: mounted,
      ...(layout.busybox ? { busybox: layout.busybox } : {}),
    }),
  );

  opts.onPhase?.({ phase: 'booting', results });
  const q = qemuCommand({
    machine,
    accel: opts.accel,
    memoryMb: opts.memoryMb ?? 2048,
    vcpus,
    consoleLog,
    kernel: opts.vmlinuz,
    initrd: initramfs,
    shares: layout.shares,
    results,
  });
  const qemu = execa(q.file, q.args, { reject: false, timeout: opts.timeoutMs, killSignal: 'SIGKILL', all: true });
  const r = await qemu;
  const seconds = (Date.now() - t0) / 1000;
  const consoleText = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
  const consoleTail = consoleText.split('\n').slice(-40).join('\n');
  const timingFile = join(results, 'timing.json');
  const breakdown = computeBreakdown({
    label: opts.label,
    totalSeconds: seconds,
    consoleText,
    timing: existsSync(timingFile) ? (JSON.parse(readFileSync(timingFile, 'utf8')) as GuestTiming) : undefined,
  });
  if (r.timedOut) return { status: 'hung', seconds, why: `no power-off within ${opts.timeoutMs / 1000} s: killed`, consoleTail, breakdown };
  const exitFile = join(results, 'exit-status');
  const report = join(results, 'claims.json');
  if (!existsSync(exitFile) || !existsSync(report)) {
    return {
      status: 'broken',
      seconds,
      why: `the guest ended without a report (qemu exit ${r.exitCode}${r.all ? `: ${r.all.trim().split('\n').slice(-3).join(' ')}` : ''})`,
      consoleTail,
      breakdown,
    };
  }
  const suiteExit = Number(readFileSync(exitFile, 'utf8').trim());
  return { status: suiteExit === 0 ? 'passed' : 'failed', seconds, report, suiteExit, consoleTail, breakdown };
}
