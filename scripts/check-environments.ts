/**
 * npm run check:environments [-- --only NAME,NAME] [--out DIR]   (--help for the list)
 *
 * Runs the whole suite in each hostile environment a real user meets (non-root,
 * PID namespace, hidepid, no clone3, CPU load; the claim case files in an OCI
 * container as Podman makes one by default) and checks, against the
 * baseline run as root, what is stated for each: a verdict equals the
 * baseline's or becomes inconclusive, unless the environment is expected to
 * change it (stated beside the claim, with the reason: `expectedIn` in
 * helpers/claims/<family>.ts); no test fails; every skip has a
 * reason; no task of the run is left behind (each run is under the reaper in
 * --report-leftovers mode). Writes each run's report, a matrix over all, and
 * environments.json/.md with the checks.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { buildProbes } from '../helpers/harness/build.js';
import { cacheRoot, commandPath, defaultReportDir, PROJECT_ROOT } from '../helpers/harness/paths.js';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import {
  CONTAINERS_SECCOMP,
  defaultCapabilities,
  profileArch,
  translateSeccompProfile,
  type ContainerSpec,
  type SeccompProfile,
} from '../helpers/harness/oci.js';
import { signalOwnChild } from '../helpers/harness/own-tasks.js';
import { expectedIn } from '../helpers/claims/index.js';
import { CHECKED_ENVIRONMENTS, type CheckedEnvironment } from '../helpers/claims/checked-environments.js';
import { environment } from '../helpers/harness/environment.js';
import { asUser, NOBODY } from '../helpers/harness/privilege.js';
import { readClaimsReport, type ClaimsReport } from '../helpers/report/claims-report.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { buildMatrix, writeMatrix } from '../helpers/report/matrix.js';
import { runNestedSuite } from '../helpers/harness/nested-suite.js';
import { syscallNumber } from '../helpers/harness/syscalls.js';
import { commaList, defineCommand, directory, oneOf, option, runMain } from '../helpers/cli.js';

interface Run {
  /** Prefix commands between the reaper and node (each must exec or fork-and-wait). */
  prefix: string[];
  /** Run from a copy of the project that the unprivileged user can read and write. */
  unprivilegedCopy?: boolean;
  /** Busy loops on every core for the whole run. */
  load?: boolean;
  /** Case files to run (default all). */
  files?: readonly string[];
  /** What runs the suite, for the report's `runtime` (CLONELAB_RUNTIME). */
  runtime?: () => Promise<string>;
}

/** How one environment is made and what its run must show; which verdicts it moves is stated beside the claims (Claim.expectedIn). */
interface EnvSpec {
  name: CheckedEnvironment;
  describe: string;
  /** Why this environment cannot be made here, or undefined. */
  cannot?: () => string | undefined;
  run: Run;
  /** Facts of the environment block the run must show. */
  facts?: (r: ClaimsReport) => string[];
}

/** The whole run (node too, as in a container whose profile refuses clone3) under fault.c. */
async function noClone3(probeDir: string): Promise<string[]> {
  return [join(probeDir, 'fault'), '--errno', 'ENOSYS', '--syscall', String(await syscallNumber('clone3')), '--'];
}

const rootOnly = () => (process.geteuid?.() === 0 ? undefined : 'making this environment needs root');

/** Why the container cannot be made here: root (a rootful container), crun, containers-common's profile and capability list. */
function cannotContainer(): string | undefined {
  const missing = [
    ...(commandPath('crun') ? [] : ['crun (apt-get install crun)']),
    ...(existsSync(CONTAINERS_SECCOMP) ? [] : [`${CONTAINERS_SECCOMP} (apt-get install golang-github-containers-common)`]),
  ];
  if (missing.length) return `missing ${missing.join(' and ')}`;
  try {
    defaultCapabilities();
  } catch (e) {
    return (e as Error).message;
  }
  return rootOnly();
}

/**
 * The container's bundle: spec.json for helpers/harness/oci-run.ts (Podman's
 * defaults for this host), and the prefix that runs the suite in it. Writable
 * inside: the checkout (a volume, as \`podman run -v $PWD:$PWD\`: reports are
 * written there), its node_modules and the probe cache; the rest of the host's / is read-only.
 */
function containerPrefix(bundle: string, kernel: string): string[] {
  mkdirSync(bundle, { recursive: true });
  mkdirSync(cacheRoot(), { recursive: true });
  const { caps } = defaultCapabilities();
  const arch = profileArch();
  const profile = JSON.parse(readFileSync(CONTAINERS_SECCOMP, 'utf8')) as SeccompProfile;
  const spec: Omit<ContainerSpec, 'args' | 'env' | 'cwd' | 'rootfs'> = {
    caps,
    seccomp: translateSeccompProfile(profile, { caps, arch: arch.go, scmpArch: arch.scmp, kernel }),
    // node_modules too, when it is a link out of the checkout (a worktree's): vite writes its temporary config there.
    writable: [...new Set([PROJECT_ROOT, join(PROJECT_ROOT, 'node_modules'), cacheRoot()].map((d) => realpathSync(d)))],
    cgroupV2: existsSync('/sys/fs/cgroup/cgroup.controllers'),
  };
  writeFileAtomic(join(bundle, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
  return [process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'helpers', 'harness', 'oci-run.ts'), '--bundle', bundle, '--'];
}
const hideProc = `mount -t proc -o hidepid=invisible proc /proc && exec "$@"`;

/** Keyed by the names of helpers/claims/checked-environments.ts: one spec for each, and none other (the compiler checks both). */
const SPECS: { [N in CheckedEnvironment]: Omit<EnvSpec, 'name'> } = {
  root: { describe: 'as root in the initial namespaces (the baseline)', cannot: rootOnly, run: { prefix: [] } },
  unprivileged: {
    describe: `as uid ${NOBODY} (setpriv), from a copy of the project it can write`,
    cannot: rootOnly,
    run: { prefix: asUser(NOBODY), unprivilegedCopy: true },
    facts: (r) => (r.environment.euid === NOBODY ? [] : [`euid is ${r.environment.euid}, not ${NOBODY}`]),
  },
  'pid-namespace': {
    describe: 'in a new PID namespace with its own /proc (unshare --pid --fork --mount-proc)',
    cannot: rootOnly,
    run: { prefix: ['unshare', '--pid', '--fork', '--mount-proc', '--'] },
    facts: (r) =>
      r.environment.initialPidNamespace === false
        ? []
        : [`the run says it was in ${r.environment.initialPidNamespace ? 'the initial' : 'an unknown'} PID namespace`],
  },
  hidepid: {
    describe: `/proc mounted hidepid=invisible in a private mount namespace, as uid ${NOBODY}`,
    cannot: rootOnly,
    run: { prefix: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', hideProc, 'sh', ...asUser(NOBODY)], unprivilegedCopy: true },
    facts: (r) => (r.environment.procMountOptions?.includes('hidepid') ? [] : [`/proc options "${r.environment.procMountOptions}" show no hidepid`]),
  },
  'no-clone3': {
    describe: 'under a seccomp filter that makes clone3 fail with ENOSYS (native-helpers/fault.c), as some container runtimes do',
    run: { prefix: ['@noclone3'] },
    facts: (r) => (r.environment.clone3.startsWith('ENOSYS') ? [] : [`clone3 is "${r.environment.clone3}", not ENOSYS`]),
  },
  'cpu-load': { describe: `with a busy loop on each of the ${cpus().length} cores for the whole run`, run: { prefix: [], load: true } },
  container: {
    describe:
      "the claim case files in an OCI container (crun) as Podman runs one by default: containers-common's seccomp profile, containers.conf's capabilities, masked and read-only /proc paths, new PID, mount, UTS, IPC and network namespaces, `sh -c` as PID 1 with the suite its child, the host's / read-only with the checkout writable",
    cannot: cannotContainer,
    run: {
      prefix: ['@container'],
      files: CLAIM_CASE_FILES,
      runtime: async () => `${(await execa('crun', ['--version'])).stdout.split('\n')[0]}, Podman's defaults`,
    },
    facts: (r) => {
      const { caps } = defaultCapabilities();
      const e = r.environment;
      return [
        ...(e.initialPidNamespace === false ? [] : [`the run says it was in ${e.initialPidNamespace ? 'the initial' : 'an unknown'} PID namespace`]),
        ...(sameSet(e.capabilities, caps) ? [] : [`its capabilities are ${e.capabilities.join(', ')}, not containers.conf's ${caps.join(', ')}`]),
        ...(e.hostname === 'clonelab-container' ? [] : [`its hostname is "${e.hostname}": no UTS namespace of its own`]),
        // The report's own /proc/self/status, not the launcher's word: the profile really filters the suite.
        ...(e.seccomp?.startsWith('filter') ? [] : [`its seccomp mode is "${e.seccomp}", not a filter`]),
      ];
    },
  },
};

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** In the order of CHECKED_ENVIRONMENTS: the baseline (root) first. */
const ENVIRONMENTS: EnvSpec[] = CHECKED_ENVIRONMENTS.map((name) => ({ name, ...SPECS[name] }));

export const command = defineCommand({
  name: 'check:environments',
  summary:
    "Runs the whole suite in each hostile environment a real user meets, under the reaper, and checks each run against the baseline run as root: verdicts, failures, skip reasons, leftovers. Writes each run's report, a matrix over all, and environments.json/.md. Exit status 1 when a check failed.",
  options: {
    only: option({
      value: 'NAME,...',
      description: 'run only these environments (and the root baseline)',
      convert: commaList(oneOf(ENVIRONMENTS.map((e) => e.name))),
    }),
    out: option({
      value: 'DIR',
      description: 'where the reports are written',
      convert: directory,
      default: () => join(defaultReportDir(), 'environments'),
      defaultText: 'reports/environments',
    }),
  },
  epilog: () => `environments:\n${ENVIRONMENTS.map((e) => `  ${e.name.padEnd(14)} ${e.describe}`).join('\n')}`,
});

/** A copy of the project that another user can read, and write where the suite writes. */
function unprivilegedCopy(dir: string): string {
  const copy = join(dir, 'project');
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  // Everything of the checkout but its git data and its reports: the copy is a whole project
  // (CLAIMS.md included, which the registry check reads), not a list that drifts.
  for (const entry of readdirSync(PROJECT_ROOT).filter((e) => !['.git', 'reports'].includes(e))) {
    cpSync(join(PROJECT_ROOT, entry), join(copy, entry), {
      recursive: true,
      filter: (src) => !src.includes('/node_modules/.cache') && !src.includes('/node_modules/.vite'),
    });
  }
  return copy;
}

interface Outcome {
  name: string;
  describe: string;
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  problems: string[];
  notes: string[];
  leftovers: string[];
  report?: string;
}

await runMain(import.meta.url, command, main);

// main() is left unindented so that this change stays apart from the environment tables' (a formatter indents it).
async function main({ out, only }: { out: string; only?: string[] }): Promise<number> {
  mkdirSync(out, { recursive: true });
  const built = await buildProbes();
  const outcomes: Outcome[] = [];
  let baseline: ClaimsReport | undefined;

  for (const env of ENVIRONMENTS.filter((e) => !only || only.includes(e.name) || e.name === 'root')) {
    const t0 = Date.now();
    const reportDir = join(out, env.name);
    rmSync(reportDir, { recursive: true, force: true });
    mkdirSync(reportDir, { recursive: true });
    const cannot = env.cannot?.();
    if (cannot) {
      outcomes.push({ name: env.name, describe: env.describe, status: 'skipped', seconds: 0, problems: [], notes: [cannot], leftovers: [] });
      console.log(`[${env.name}] skipped: ${cannot}`);
      continue;
    }
    console.log(`[${env.name}] ${env.describe}`);
    const project = env.run.unprivilegedCopy ? unprivilegedCopy(join(out, '.work')) : PROJECT_ROOT;
    if (env.run.unprivilegedCopy) {
      await execa('chown', ['-R', `${NOBODY}:${NOBODY}`, join(out, '.work'), reportDir]);
      await execa('chmod', ['a+rx', out]);
    }
    const special: Record<string, () => Promise<string[]> | string[]> = {
      '@noclone3': () => noClone3(built.dir),
      '@container': () => containerPrefix(join(out, '.work', 'container'), environment().kernelRelease),
    };
    const prefix = (await Promise.all(env.run.prefix.map(async (p) => (special[p] ? special[p]() : [p])))).flat();
    const loads: ResultPromise[] = env.run.load ? cpus().map(() => execa('sh', ['-c', 'while :; do :; done'], { reject: false })) : [];
    const run = await runNestedSuite({
      probeDir: built.dir,
      reportDir,
      readReport: readClaimsReport,
      project,
      prefix,
      ...(env.run.files ? { files: env.run.files } : {}),
      env: {
        CLONELAB_ENVIRONMENT: env.name,
        ...(env.run.runtime ? { CLONELAB_RUNTIME: await env.run.runtime() } : {}),
        ...(env.run.unprivilegedCopy ? { HOME: project, CLONELAB_CACHE_DIR: join(project, '.cache') } : {}),
      },
    });
    for (const l of loads) signalOwnChild(l.pid!, 'SIGKILL'); // our own busy loops
    await Promise.all(loads);
    const seconds = (Date.now() - t0) / 1000;
    const { leftovers } = run;
    const problems: string[] = [];
    const notes: string[] = [];
    if (leftovers.length) problems.push(`${leftovers.length} task(s) of the run were left behind: ${leftovers.join('; ')}`);
    const report = run.report;
    if (!report) problems.push(`no usable report: ${run.noReport}`);
    if (report) {
      if (report.tests.failed)
        problems.push(
          `${report.tests.failed} test(s) failed: ${report.tests.list
            .filter((t) => t.state === 'failed')
            .map((t) => t.name)
            .join('; ')}`,
        );
      for (const t of report.tests.list.filter((x) => x.state === 'skipped')) {
        if (!t.skipReason || t.skipReason.startsWith('skipped without')) problems.push(`skipped without a reason: ${t.name}`);
        else notes.push(`skipped: ${t.name}: ${t.skipReason}`);
      }
      if (report.environment.name !== env.name) problems.push(`the report names its environment "${report.environment.name}"`);
      problems.push(...(env.facts?.(report) ?? []));
      const expected = expectedIn(env.name);
      for (const [id, m] of Object.entries(expected)) {
        if (!m.verdict) continue;
        const c = report.claims.find((x) => x.id === id)!;
        if (c.verdict !== m.verdict) problems.push(`${id} is ${c.verdict}, expected ${m.verdict}: ${m.because}`);
        else notes.push(`${id} ${m.verdict} as expected: ${m.because}`);
      }
      if (baseline && env.name !== 'root') {
        for (const c of report.claims) {
          const b = baseline.claims.find((x) => x.id === c.id)!;
          const m = expected[c.id];
          if (c.verdict === b.verdict || m?.verdict) continue;
          if (c.verdict === 'inconclusive') notes.push(`${c.id}: ${b.verdict} -> inconclusive: ${c.explanation}`);
          else if (m) notes.push(`${c.id}: ${b.verdict} -> ${c.verdict}: ${m.because}`);
          else
            problems.push(
              `${c.id} is ${c.verdict} here but ${b.verdict} in the baseline, and nothing (expectedIn in helpers/claims/) explains why: a false verdict`,
            );
        }
      }
      if (env.name === 'root') baseline = report;
    }
    const status = problems.length ? 'failed' : 'ok';
    outcomes.push({
      name: env.name,
      describe: env.describe,
      status,
      seconds,
      problems,
      notes,
      leftovers,
      ...(report ? { report: join(reportDir, 'claims.json') } : {}),
    });
    console.log(
      `[${env.name}] ${status} in ${seconds.toFixed(0)} s${report ? `: ${report.tests.passed} passed, ${report.tests.failed} failed, ${report.tests.skipped} skipped` : ''}`,
    );
    for (const p of problems) console.log(`[${env.name}]   PROBLEM ${p}`);
  }
  rmSync(join(out, '.work'), { recursive: true, force: true });

  const withReports = outcomes.filter((o) => o.report);
  const matrix = buildMatrix(withReports.map((o) => ({ source: o.report!, report: readClaimsReport(o.report!), label: o.name })));
  writeMatrix(matrix, out);
  const md = [
    '# clonelab in hostile environments',
    '',
    `Host: ${environment().kernelRelease}. Each environment ran the whole suite; the checks are stated in scripts/check-environments.ts, and the verdicts each environment is expected to move beside their claims (expectedIn in helpers/claims/<family>.ts).`,
    '',
    '| environment | result | time | tests | checks |',
    '|---|---|---|---|---|',
    ...outcomes.map((o) => {
      const r = o.report ? readClaimsReport(o.report) : undefined;
      return `| ${o.name}: ${o.describe} | **${o.status}** | ${o.seconds.toFixed(0)} s | ${r ? `${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped` : '-'} | ${[...o.problems.map((p) => `PROBLEM: ${p}`), ...o.notes].join('<br>').replace(/\|/g, '\\|') || 'as baseline'} |`;
    }),
    '',
    'Verdicts per environment: matrix.md (rows that differ first).',
    '',
  ].join('\n');
  writeFileAtomic(join(out, 'environments.md'), md);
  writeFileAtomic(join(out, 'environments.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), outcomes }, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), join(out, 'environments.md'))}, environments.json and matrix.{json,md,html}`);
  const failed = outcomes.filter((o) => o.status === 'failed');
  console.log(
    `${outcomes.filter((o) => o.status === 'ok').length} passed, ${failed.length} failed, ${outcomes.filter((o) => o.status === 'skipped').length} skipped`,
  );
  return failed.length ? 1 : 0;
}
