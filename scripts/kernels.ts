/**
 * npm run kernels [-- --kernel VERSION ...] [-j N] [--refresh] [--timeout SECONDS]
 *                 [--out DIR] [--host-report FILE | --no-host] [--hang VERSION]
 *
 * Boots Debian kernels under QEMU (KVM when usable, TCG otherwise), runs the
 * claim-bearing cases (helpers/claims/families.ts) in each and on the host,
 * and writes the matrix report for the host plus every kernel: the tests of
 * clonelab itself say nothing of a kernel, so neither column runs them. The
 * kernel list lives in kernels.json. Exits non-zero when any kernel's tests
 * fail or any guest breaks or hangs.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { buildProbes, ProbeBuildError } from '../helpers/harness/build.js';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import { cacheRoot, defaultReportDir, PROJECT_ROOT, VITEST } from '../helpers/harness/paths.js';
import { KernelFetchError, PrivateApt, type KernelSpec } from '../helpers/kernels/apt.js';
import { writeBreakdowns } from '../helpers/kernels/breakdown.js';
import { kvmUsable, runGuest, type GuestResult } from '../helpers/kernels/guest.js';
import { findKernelFiles, packagesOf } from '../helpers/kernels/layout.js';
import { readClaimsReport, summaryLine } from '../helpers/report/claims-report.js';
import { buildMatrix, writeMatrix, type MatrixInput } from '../helpers/report/matrix.js';
import { unmet } from '../helpers/harness/needs.js';
import { defineCommand, directory, fail, flag, oneOf, option, path, repeated, runMain, UsageError, wholeNumber } from '../helpers/cli.js';

/** kernels.json, read when first needed (not on import). */
let configCache: { default: string[]; kernels: KernelSpec[] } | undefined;
function config(): { default: string[]; kernels: KernelSpec[] } {
  configCache ??= JSON.parse(readFileSync(join(PROJECT_ROOT, 'kernels.json'), 'utf8')) as { default: string[]; kernels: KernelSpec[] };
  return configCache;
}
const kernelVersion = oneOf(() => config().kernels.map((k) => k.version), 'kernels.json');

export const command = defineCommand({
  name: 'kernels',
  summary:
    "Boots Debian kernels under QEMU (KVM when usable, TCG otherwise), runs the claim-bearing cases in each and on the host, and writes the matrix report for the host plus every kernel. Exit status 1 when any kernel's tests fail or any guest breaks or hangs.",
  options: {
    kernel: repeated({ value: 'VERSION', description: 'a kernel to boot (without it: the default list, below)', convert: kernelVersion }),
    jobs: option({ value: 'N', short: 'j', description: 'guests booted at a time', convert: wholeNumber(1), default: 1 }),
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
    hang: repeated({ value: 'VERSION', description: 'make this guest hang (tests the deadline)', convert: kernelVersion }),
  },
  check: (o) => {
    if (o['host-report'] !== undefined && o['no-host'])
      throw new UsageError('--host-report and --no-host are exclusive: the host column comes from a file or is left out');
  },
  epilog: () =>
    `kernels (kernels.json): ${config()
      .kernels.map((k) => k.version)
      .join(', ')}; default: ${config().default.join(', ')}`,
});

/** What booting a guest takes (helpers/harness/needs.ts COMMANDS says which package has each). */
const GUEST_TOOLS = ['qemu-system-x86_64', 'busybox', 'dpkg-deb', 'xz', 'zstd', 'apt-get'];

await runMain(import.meta.url, command, async (o) => {
  const opts = {
    kernels: o.kernel.length ? o.kernel : config().default,
    jobs: o.jobs,
    refresh: o.refresh,
    timeoutS: o.timeout,
    out: o.out,
    host: o['no-host'] ? 'none' : (o['host-report'] ?? 'run'),
    hang: new Set(o.hang),
  };
  const missing = unmet({ cmds: GUEST_TOOLS });
  if (missing) fail(missing);
  const kvm = kvmUsable();
  const accel = kvm.usable ? 'kvm' : 'tcg';
  console.log(
    `kernels: ${opts.kernels.join(', ')}; ${accel === 'kvm' ? 'KVM' : `TCG (${kvm.why})`}; ${opts.jobs} at a time; results in ${relative(process.cwd(), opts.out) || opts.out}`,
  );
  mkdirSync(opts.out, { recursive: true });

  try {
    await buildProbes(); // the guests reuse them through the shared root
  } catch (e) {
    if (e instanceof ProbeBuildError) fail(e.message);
    throw e;
  }

  const inputs: MatrixInput[] = [];
  if (opts.host === 'run') {
    const t0 = Date.now();
    const hostDir = join(opts.out, 'host');
    console.log('[host] running the claim-bearing cases, as the guests do');
    const r = await execa(process.execPath, [VITEST, 'run', ...CLAIM_CASE_FILES], { cwd: PROJECT_ROOT, reject: false, env: { CLONELAB_REPORT_DIR: hostDir } });
    if (existsSync(join(hostDir, 'claims.json'))) {
      const rep = readClaimsReport(hostDir);
      inputs.push({ source: hostDir, report: rep, label: `host ${rep.environment.kernelRelease}` });
      console.log(`[host] ${r.exitCode === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${summaryLine(rep)}`);
    } else {
      inputs.push({ source: hostDir, label: 'host', broken: `the host suite wrote no report (exit ${r.exitCode})` });
    }
  } else if (opts.host !== 'none') {
    inputs.push({ source: opts.host, report: readClaimsReport(opts.host) });
  }

  const apt = new PrivateApt(cacheRoot());
  const specs = opts.kernels.map((v) => config().kernels.find((k) => k.version === v)!);
  try {
    console.log(`[apt] updating the private package lists for ${[...new Set(specs.map((s) => s.suite))].join(', ')}`);
    await apt.update(
      specs.map((s) => s.suite),
      opts.refresh,
    );
  } catch (e) {
    if (e instanceof KernelFetchError) fail(e.message);
    throw e;
  }

  async function oneKernel(spec: KernelSpec): Promise<MatrixInput & { result?: GuestResult }> {
    const tag = `[${spec.version}]`;
    const t0 = Date.now();
    try {
      const pkg = await apt.resolve(spec);
      const tree = join(cacheRoot(), 'kernels', pkg);
      // Unpacked once per package set; the marker is written last, so an interrupted unpack is done again.
      const unpacked = join(tree, '.clonelab-unpacked');
      if (!existsSync(unpacked) || opts.refresh) {
        mkdirSync(tree, { recursive: true });
        for (const p of packagesOf(pkg)) {
          console.log(`${tag} fetching ${p}`);
          await execa('dpkg-deb', ['-x', await apt.download(p, opts.refresh), tree]);
        }
        writeFileSync(unpacked, `${packagesOf(pkg).join('\n')}\n`);
      }
      const found = findKernelFiles(tree);
      if (typeof found === 'string') throw new Error(`${pkg}: ${found}`);
      const release = found.release;
      const workDir = join(opts.out, spec.version);
      mkdirSync(workDir, { recursive: true });
      console.log(`${tag} booting ${release} (${accel})${opts.hang.has(spec.version) ? ', told to hang' : ''}`);
      const result = await runGuest({
        label: release,
        vmlinuz: found.image,
        modulesDir: found.modulesDir,
        workDir,
        timeoutMs: opts.timeoutS * 1000,
        accel,
        hang: opts.hang.has(spec.version),
      });
      if (result.report) {
        const dest = join(workDir, 'claims.json');
        copyFileSync(result.report, dest);
        const rep = readClaimsReport(dest);
        console.log(`${tag} ${result.status} in ${result.seconds.toFixed(0)} s: ${summaryLine(rep)}`);
        return { source: dest, report: rep, label: `${spec.version}: ${release}`, result };
      }
      console.log(
        `${tag} ${result.status.toUpperCase()} after ${result.seconds.toFixed(0)} s: ${result.why}\n${result.consoleTail
          .split('\n')
          .slice(-12)
          .map((l) => `${tag}   ${l}`)
          .join('\n')}`,
      );
      return { source: workDir, label: `${spec.version}: ${release}`, broken: `${result.status}: ${result.why}\nconsole tail:\n${result.consoleTail}`, result };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      console.log(`${tag} BROKEN after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${why}`);
      return { source: spec.version, label: spec.version, broken: why };
    }
  }

  // A small pool: -j N guests at once, each kernel once.
  const queue = [...specs];
  const done: (MatrixInput & { result?: GuestResult })[] = [];
  await Promise.all(
    Array.from({ length: Math.min(opts.jobs, queue.length) }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) done.push(await oneKernel(s));
    }),
  );
  done.sort((a, b) => specs.findIndex((s) => (a.label ?? '').startsWith(s.version)) - specs.findIndex((s) => (b.label ?? '').startsWith(s.version)));
  const matrix = buildMatrix([...inputs, ...done]);
  // Where each guest's time went: <out>/<version>/breakdown.json and one table, <out>/breakdown.md.
  const timed = done.flatMap((d) =>
    d.result ? [{ dir: specs.find((s) => (d.label ?? '').startsWith(s.version))!.version, breakdown: d.result.breakdown }] : [],
  );
  const files = [...writeMatrix(matrix, opts.out), ...(timed.length ? writeBreakdowns(opts.out, timed).slice(-1) : [])];
  console.log(
    `matrix: ${matrix.claims.filter((c) => c.differs).length} claims and ${matrix.tests.filter((t) => t.differs).length} tests differ between ${matrix.columns.length} columns`,
  );
  for (const f of files) console.log(`  ${relative(process.cwd(), f) || f}`);
  const bad = done.filter((d) => 'broken' in d || d.result?.status !== 'passed');
  return bad.length ? 1 : 0;
});
