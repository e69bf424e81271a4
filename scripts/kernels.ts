/**
 * npm run kernels [-- --kernel NAME ...] [--arch x86_64|arm64|all] [--kernel-package NAME ... [--suite SUITE]]
 *                 [--kernel-deb FILE.deb ...] [--kernel-image PATH [--modules DIR] [--config FILE]]
 *                 [-j N] [--refresh] [--timeout SECONDS] [--claim ID ...] [--mirror URI]
 *                 [--out DIR] [--host-report FILE | --no-host] [--hang NAME]
 *
 * Boots Debian kernels under QEMU (KVM when usable, TCG otherwise), runs the
 * claim-bearing cases (helpers/claims/families.ts) in each and on the host,
 * and writes the matrix report for the host plus every kernel: the tests of
 * clonelab itself say nothing of a kernel, so neither column runs them. The
 * kernel list lives in kernels.json (helpers/kernels/sources.ts says what an
 * entry may name); --kernel-package, --kernel-deb and --kernel-image add any
 * other Debian package or a kernel built by hand. --claim narrows every column
 * to the case files the named claims read (helpers/claims/scope.ts); while
 * guests run, their progress is shown (helpers/kernels/progress.ts). The Debian
 * mirror and the keyring that verifies it are chosen in helpers/kernels/apt.ts
 * and the accelerator in helpers/kernels/host.ts; the run's first lines say
 * which and why. Exits non-zero when any kernel's tests fail or any guest
 * breaks or hangs.
 *
 * --arch arm64 boots Debian's arm64 kernels under qemu-system-aarch64 (TCG on
 * an x86_64 host) with the cached arm64 userspace as their root
 * (helpers/kernels/userspace.ts) and probes cross-compiled for them
 * (buildProbes({ arch })); --arch all boots every kernel on both, in one
 * matrix whose columns then name their architecture. What differs by
 * architecture is in helpers/kernels/machine.ts only.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { buildProbes, ProbeBuildError } from '../helpers/harness/build.js';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import { cacheRoot, defaultReportDir, PROJECT_ROOT, VITEST } from '../helpers/harness/paths.js';
import { aptSourceLine, chooseDebianMirror, DEBIAN_REDIRECTOR, debianKeyring, KernelFetchError, PrivateApt } from '../helpers/kernels/apt.js';
import { writeBreakdowns } from '../helpers/kernels/breakdown.js';
import { guestCpus, runGuest, type GuestResult } from '../helpers/kernels/guest.js';
import { accelLine, chooseAccel, type Accel } from '../helpers/kernels/host.js';
import { GUEST_ARCHES, hostMachine, kvmPossible, type GuestArch, type Machine } from '../helpers/kernels/machine.js';
import {
  columnLabel,
  KernelSourceError,
  parseKernelsFile,
  planGuests,
  prepareKernel,
  sourcesFromOptions,
  suitesOf,
  type KernelsFile,
  type KernelSource,
  type PlannedGuest,
} from '../helpers/kernels/sources.js';
import { prepareUserspace, UserspaceError, type Userspace } from '../helpers/kernels/userspace.js';
import { readClaimsReport, summaryLine } from '../helpers/report/claims-report.js';
import { buildMatrix, differenceSummary, writeMatrix, type MatrixInput } from '../helpers/report/matrix.js';
import { unmet } from '../helpers/harness/needs.js';
import { applyScope, claimIds, claimScope, recordedKinds, type ClaimScope } from '../helpers/claims/scope.js';
import { ProgressBoard, watchResults } from '../helpers/kernels/progress.js';
import { defineCommand, directory, fail, flag, oneOf, option, path, repeated, runMain, text, UsageError, wholeNumber, type ValuesOf } from '../helpers/cli.js';

/** A kernel's directory under --out, named after its entry. */
const workDirName = (name: string): string => name.replace(/[^\w.+-]+/g, '_');

/** kernels.json, read when first needed (not on import). */
let configCache: KernelsFile | undefined;
function config(): KernelsFile {
  const file = join(PROJECT_ROOT, 'kernels.json');
  configCache ??= parseKernelsFile(readFileSync(file, 'utf8'), file);
  return configCache;
}
const kernelVersion = oneOf(() => config().kernels.map((k) => k.name), 'kernels.json');

export const command = defineCommand({
  name: 'kernels',
  summary:
    "Boots Debian kernels under QEMU (KVM when usable, TCG otherwise), runs the claim-bearing cases in each and on the host, and writes the matrix report for the host plus every kernel. Exit status 1 when any kernel's tests fail or any guest breaks or hangs.",
  options: {
    kernel: repeated({
      value: 'NAME',
      description: 'a kernel of kernels.json to boot (without it, --kernel-package, --kernel-deb or --kernel-image: the default list)',
      convert: kernelVersion,
    }),
    jobs: option({ value: 'N', short: 'j', description: 'guests booted at a time', convert: wholeNumber(1), default: 1 }),
    arch: option({
      value: 'ARCH',
      description: "the guests' architecture: every kernel is booted on each (all: x86_64 and arm64, one matrix)",
      convert: oneOf<GuestArch | 'all'>([...GUEST_ARCHES, 'all']),
      default: (): GuestArch | 'all' => 'x86_64',
      defaultText: 'x86_64',
    }),
    refresh: flag('fetch the package lists and kernels again'),
    timeout: option({ value: 'SECONDS', description: "each guest's deadline", convert: wholeNumber(10), default: 900 }),
    out: option({
      value: 'DIR',
      description: 'where the reports and the matrix are written',
      convert: directory,
      default: () => join(defaultReportDir(), 'kernels'),
      defaultText: 'reports/kernels',
    }),
    'host-report': option({
      value: 'FILE',
      description: "the host's column from this claims.json instead of a run on the host",
      convert: path('a claims.json, or a directory holding one'),
    }),
    'no-host': flag('no host column'),
    hang: repeated({ value: 'NAME', description: 'make this guest hang (tests the deadline)', convert: kernelVersion }),
    claim: repeated({
      value: 'ID',
      description: 'run only the case files this claim reads, on the host and in each guest; the matrix marks the claims they do not cover out-of-scope',
      convert: oneOf(() => claimIds(), 'CLAIMS.md'),
    }),
    'kernel-package': repeated({
      value: 'NAME',
      description: 'a Debian kernel package to boot, flavours included (linux-image-6.1.0-28-cloud-amd64, or a metapackage such as linux-image-rt-amd64)',
      convert: text('a Debian package name'),
    }),
    suite: option({
      value: 'SUITE',
      description: "the Debian suite of the --kernel-package packages (default: kernels.json's suites)",
      convert: text('a Debian suite'),
    }),
    'kernel-deb': repeated({
      value: 'FILE.deb',
      description: 'a Debian kernel package file to boot (7.x: its linux-modules and linux-base .debs beside it)',
      convert: path('a .deb file'),
    }),
    'kernel-image': option({ value: 'PATH', description: 'a kernel image to boot (a bzImage or vmlinuz you built)', convert: path('a kernel image') }),
    modules: option({
      value: 'DIR',
      description: "the --kernel-image's modules (what make modules_install wrote), when what the guest needs is not built in",
      convert: directory,
    }),
    config: option({
      value: 'FILE',
      description: "the --kernel-image's .config, when it lies neither beside the image nor in it (IKCONFIG)",
      convert: path('a kernel .config'),
    }),
    mirror: option({
      value: 'URI',
      description: `the Debian mirror (default: CLONELAB_DEBIAN_MIRROR, else the host's Debian APT source, else ${DEBIAN_REDIRECTOR})`,
      convert: text('a Debian mirror URI'),
    }),
  },
  check: (o) => {
    if (o.claim.length) {
      try {
        claimScope(o.claim, recordedKinds());
      } catch (e) {
        throw new UsageError(`--claim: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (o['host-report'] !== undefined && o['no-host'])
      throw new UsageError('--host-report and --no-host are exclusive: the host column comes from a file or is left out');
    try {
      plan(o);
    } catch (e) {
      if (e instanceof KernelSourceError) throw new UsageError(e.message);
      throw e;
    }
  },
  epilog: () =>
    `kernels (kernels.json): ${config()
      .kernels.map((k) => k.name)
      .join(', ')}; default: ${config().default.join(', ')}`,
});

/** The kernels named by --kernel-package, --kernel-deb and --kernel-image. */
function extraSources(o: ValuesOf<typeof command>): KernelSource[] {
  return sourcesFromOptions({
    packages: o['kernel-package'],
    suite: o.suite,
    debs: o['kernel-deb'],
    image: o['kernel-image'],
    modules: o.modules,
    config: o.config,
  });
}

/** The architectures --arch asks for. */
const archesOf = (a: GuestArch | 'all'): GuestArch[] => (a === 'all' ? [...GUEST_ARCHES] : [a]);

/**
 * The guests of a run: the kernels named (--kernel, --kernel-package, ...;
 * else kernels.json's default list) on each architecture --arch asks for
 * that they can boot on. A .deb or image from the command line is taken to
 * be of the one architecture asked, if one is.
 */
function plan(o: ValuesOf<typeof command>): { sources: KernelSource[]; guests: PlannedGuest[] } {
  const arches = archesOf(o.arch);
  const extra = extraSources(o).map((s) => (!s.arch && (s.kind === 'deb' || s.kind === 'image') && arches.length === 1 ? { ...s, arch: arches[0] } : s));
  // --kernel names entries; without it, the default list unless another kernel is named.
  const asked = o.kernel.length ? o.kernel : extra.length ? [] : undefined;
  const sources: KernelSource[] = [...(asked ?? config().default).map((n) => config().kernels.find((k) => k.name === n)!), ...extra];
  const guests = planGuests(sources, arches, () => asked !== undefined);
  if (!guests.length) throw new KernelSourceError(`no kernel of the default list boots on ${arches.join(' or ')}: name one with --kernel`);
  return { sources, guests };
}

/** What booting a guest takes (helpers/harness/needs.ts COMMANDS says which package has each): the QEMU of each machine, and the host's busybox for a guest of its own architecture (another's comes with its userspace). */
const guestTools = (machines: Machine[]): string[] => [
  ...new Set([...machines.map((m) => m.qemu), ...(machines.some((m) => kvmPossible(m)) ? ['busybox'] : []), 'dpkg-deb', 'xz', 'zstd', 'apt-get']),
];

await runMain(import.meta.url, command, async (o) => {
  const { sources, guests } = plan(o);
  const machines = [...new Set(guests.map((g) => g.machine))];
  // Columns name their architecture when the matrix holds more than one (the host's counts).
  const showArch = new Set([...machines.map((m) => m.arch), ...(o['no-host'] ? [] : [hostMachine()?.arch])]).size > 1;
  const opts = {
    kernels: guests.map((g) => g.id),
    jobs: o.jobs,
    refresh: o.refresh,
    timeoutS: o.timeout,
    out: o.out,
    host: o['no-host'] ? 'none' : (o['host-report'] ?? 'run'),
    hang: new Set(o.hang),
    scope: o.claim.length ? claimScope(o.claim, recordedKinds()) : undefined,
  };
  const caseFiles = opts.scope?.caseFiles ?? CLAIM_CASE_FILES;
  const missing = unmet({ cmds: guestTools(machines) });
  if (missing) fail(missing);
  const chosen = chooseAccel();
  // KVM runs only a guest of the host's own architecture; another is emulated (TCG).
  const accelOf = (m: Machine): Accel => (kvmPossible(m) ? chosen : { accel: 'tcg', why: `${m.arch} guest on a ${process.arch} host` });
  const accels = machines.map((m) => `${machines.length > 1 ? `${m.arch} ` : ''}${accelLine(accelOf(m))}`).join(', ');
  console.log(
    `kernels: ${opts.kernels.join(', ')}; ${accels}; ${opts.jobs} at a time, ${guestCpus(opts.jobs)} vCPU(s) and vitest worker(s) each at most; results in ${relative(process.cwd(), opts.out) || opts.out}`,
  );
  if (opts.scope) console.log(scopeLine(opts.scope));
  // Where Debian packages come from and what verifies them, decided before any
  // work so that a missing keyring stops the run at once.
  const suites = suitesOf(sources, [...new Set(config().kernels.flatMap((k) => (k.kind === 'version' ? [k.suite] : [])))]);
  let aptSource: { mirror: string; keyring: string } | undefined;
  if (suites.length) {
    const mirror = chooseDebianMirror(o.mirror !== undefined ? { flag: o.mirror } : {});
    let keyring;
    try {
      keyring = debianKeyring();
    } catch (e) {
      if (e instanceof KernelFetchError) fail(e.message);
      throw e;
    }
    console.log(aptSourceLine(mirror, keyring));
    aptSource = { mirror: mirror.uri, keyring: keyring.path };
  }
  mkdirSync(opts.out, { recursive: true });

  // Per machine: the probes the guests check and use (CLONELAB_PROBE_DIR, through the shared project: a
  // guest cannot compile), cross-compiled for another architecture; and, for another architecture, its root.
  const probeDirs = new Map<GuestArch, string>();
  const userspaces = new Map<GuestArch, Userspace>();
  for (const m of machines) {
    try {
      probeDirs.set(m.arch, (await buildProbes(kvmPossible(m) ? {} : { arch: m.nodeArch })).dir);
      if (!kvmPossible(m)) {
        const t0 = Date.now();
        const u = await prepareUserspace({
          machine: m,
          refresh: opts.refresh,
          log: (l) => console.log(`[${m.arch} userspace] ${l}`),
          ...(aptSource ? { source: aptSource } : {}),
        });
        console.log(
          `[${m.arch} userspace] ${u.cached ? 'cached' : 'built'} ${u.key} (node ${u.inputs.node.version}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
        );
        userspaces.set(m.arch, u);
      }
    } catch (e) {
      if (e instanceof ProbeBuildError || e instanceof UserspaceError || e instanceof KernelFetchError) fail(`${m.arch}: ${e.message}`);
      throw e;
    }
  }

  const inputs: MatrixInput[] = [];
  if (opts.host === 'run') {
    const t0 = Date.now();
    const hostDir = join(opts.out, 'host');
    console.log('[host] running the claim-bearing cases, as the guests do');
    const r = await execa(process.execPath, [VITEST, 'run', ...caseFiles], { cwd: PROJECT_ROOT, reject: false, env: { CLONELAB_REPORT_DIR: hostDir } });
    if (existsSync(join(hostDir, 'claims.json'))) {
      const rep = readClaimsReport(hostDir);
      inputs.push({ source: hostDir, report: rep, label: `host ${showArch ? `${hostMachine()?.arch ?? process.arch} ` : ''}${rep.environment.kernelRelease}` });
      console.log(`[host] ${r.exitCode === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${summaryLine(rep)}`);
    } else {
      inputs.push({ source: hostDir, label: 'host', broken: `the host suite wrote no report (exit ${r.exitCode})` });
    }
  } else if (opts.host !== 'none') {
    inputs.push({ source: opts.host, report: readClaimsReport(opts.host) });
  }

  // One private APT per Debian architecture: each resolves its own kernel packages.
  const apts = new Map(machines.map((m) => [m.arch, new PrivateApt(cacheRoot(), m.debianArch)]));
  if (aptSource) {
    for (const [arch, apt] of apts) {
      try {
        console.log(`[apt] updating the private ${apt.arch} package lists for ${suites.join(', ')}`);
        await apt.update(suites, opts.refresh, aptSource);
      } catch (e) {
        if (e instanceof KernelFetchError) fail(`${arch}: ${e.message}`);
        throw e;
      }
    }
  }

  async function oneKernel(g: PlannedGuest): Promise<MatrixInput & { result?: GuestResult }> {
    const spec = g.source;
    const m = g.machine;
    const id = g.id;
    const tag = `[${id}]`;
    const t0 = Date.now();
    board.add(id, opts.timeoutS);
    board.on(id, { type: 'phase', phase: 'fetching', at: Date.now() });
    let stopWatching = () => {};
    const workDir = join(opts.out, workDirName(id));
    mkdirSync(workDir, { recursive: true });
    const accel = accelOf(m).accel;
    const arch = showArch ? m.arch : undefined;
    try {
      const k = await prepareKernel(spec, {
        apt: apts.get(m.arch)!,
        machine: m,
        cacheRoot: cacheRoot(),
        workDir,
        refresh: opts.refresh,
        log: (l) => console.log(`${tag} ${l}`),
      });
      const release = k.release ?? 'unknown release';
      // What the kernel lacks, in one line, before booting it (helpers/kernels/kconfig.ts).
      if (!k.config) console.log(`${tag} no config found (beside the image, --config, or IKCONFIG): booting unchecked`);
      else console.log(`${tag} config ${k.config.hash} from ${k.config.from}`);
      if (k.check?.suiteLine) console.log(`${tag} lacks what some claims need: ${k.check.suiteLine}`);
      if (k.check?.bootLine) throw new KernelSourceError(`cannot run the suite, not booted: ${k.check.bootLine}`);
      console.log(`${tag} booting ${k.booted}, ${release} (${accel})${opts.hang.has(spec.name) ? ', told to hang' : ''}`);
      const result = await runGuest({
        label: release,
        vmlinuz: k.image,
        modulesDir: k.modulesDir,
        workDir,
        timeoutMs: opts.timeoutS * 1000,
        accel,
        vcpus: guestCpus(Math.min(opts.jobs, guests.length)),
        machine: m,
        ...(userspaces.has(m.arch) ? { userspace: userspaces.get(m.arch)! } : {}),
        hang: opts.hang.has(spec.name),
        caseFiles,
        probeDir: probeDirs.get(m.arch)!,
        onPhase: ({ results }) => {
          board.on(id, { type: 'phase', phase: 'booting', at: Date.now() });
          stopWatching = watchResults(results, caseFiles, (e) => board.on(id, e));
        },
      });
      stopWatching();
      board.on(id, { type: 'phase', phase: 'collecting', at: Date.now() });
      board.on(id, { type: 'end', outcome: result.status, at: Date.now() });
      if (result.report) {
        const dest = join(workDir, 'claims.json');
        copyFileSync(result.report, dest);
        const rep = readClaimsReport(dest);
        console.log(`${tag} ${result.status} in ${result.seconds.toFixed(0)} s: ${summaryLine(rep)}`);
        return { source: dest, report: rep, label: columnLabel(spec.name, k, rep.environment.kernelRelease, arch), result };
      }
      console.log(
        `${tag} ${result.status.toUpperCase()} after ${result.seconds.toFixed(0)} s: ${result.why}\n${result.consoleTail
          .split('\n')
          .slice(-12)
          .map((l) => `${tag}   ${l}`)
          .join('\n')}`,
      );
      return {
        source: workDir,
        label: columnLabel(spec.name, k, undefined, arch),
        broken: `${result.status}: ${result.why}\nconsole tail:\n${result.consoleTail}`,
        result,
      };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      stopWatching();
      board.on(id, { type: 'end', outcome: 'broken', at: Date.now() });
      console.log(`${tag} BROKEN after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${why}`);
      return { source: id, label: arch ? `${arch} ${spec.name}` : spec.name, broken: why };
    }
  }

  // A small pool: -j N guests at once, each kernel once.
  const queue = guests.map((s, i) => ({ s, i }));
  const done: (MatrixInput & { result?: GuestResult; order: number })[] = [];
  // Live lines on a terminal, a line per phase change in a log (CI).
  const board = new ProgressBoard({ tty: Boolean(process.stdout.isTTY), write: (s) => process.stdout.write(s) });
  const releaseConsole = board.tty ? board.captureConsole() : () => {};
  try {
    await Promise.all(
      Array.from({ length: Math.min(opts.jobs, queue.length) }, async () => {
        for (let q = queue.shift(); q; q = queue.shift()) done.push({ ...(await oneKernel(q.s)), order: q.i });
      }),
    );
  } finally {
    board.close();
    releaseConsole();
  }
  done.sort((a, b) => a.order - b.order);
  const built = buildMatrix([...inputs, ...done]);
  const matrix = opts.scope ? applyScope(built, opts.scope) : built;
  // Where each guest's time went: <out>/<kernel>/breakdown.json and one table, <out>/breakdown.md.
  const timed = done.flatMap((d) => (d.result ? [{ dir: workDirName(guests[d.order]!.id), breakdown: d.result.breakdown }] : []));
  const files = [...writeMatrix(matrix, opts.out), ...(timed.length ? writeBreakdowns(opts.out, timed).slice(-1) : [])];
  console.log(`matrix: ${differenceSummary(matrix)}`);
  for (const f of files) console.log(`  ${relative(process.cwd(), f) || f}`);
  if (opts.scope) console.log(`  ${scopeLine(opts.scope)}`);
  const bad = done.filter((d) => 'broken' in d || d.result?.status !== 'passed');
  return bad.length ? 1 : 0;
});

/** What a narrowed run covers, in one line. */
function scopeLine(s: ClaimScope): string {
  return `scope: --claim ${s.asked.join(', ')} runs ${s.caseFiles.join(', ')}; claims in scope: ${s.claims.join(', ')} (the others are out-of-scope in the matrix)`;
}
