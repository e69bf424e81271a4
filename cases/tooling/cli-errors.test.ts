/**
 * The command-line tools: helpers/cli.ts itself, then every script's bad
 * arguments, in-process (each script exports its command and runs nothing
 * on import), and two real runs that prove what a user's shell sees: exit
 * status 2, the problem, then the usage line. The lab's own cases are in
 * lab.test.ts; the report commands' real runs in reports.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import {
  type AnyOption,
  type Command,
  CommandFailure,
  commaList,
  defineCommand,
  directory,
  EXIT,
  fail,
  flag,
  oneOf,
  option,
  repeated,
  runCommand,
  UsageError,
  wholeNumber,
} from '../../helpers/cli.js';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { syscallTable } from '../../helpers/harness/syscalls.js';

/** Run a command in-process with captured output; main must not be reached unless `main` is given. */
async function run<O extends Record<string, AnyOption>, P>(cmd: Command<O, P>, argv: string[], main?: Parameters<typeof runCommand<O, P>>[2]) {
  let stdout = '';
  let stderr = '';
  let reached = false;
  const code = await runCommand(
    cmd,
    argv,
    main ??
      (() => {
        reached = true;
      }),
    { out: (s) => (stdout += s), err: (s) => (stderr += s) },
  );
  return { code, stdout, stderr, reached };
}

// ------------------------------------------------------------------ helpers/cli.ts

const toy = defineCommand({
  name: 'toy',
  summary: 'A command to test the parser with.',
  options: {
    jobs: option({ value: 'N', short: 'j', description: 'at a time', convert: wholeNumber(1), default: 2 }),
    out: option({ value: 'DIR', description: 'where', convert: directory, default: () => resolve('default-out'), defaultText: 'reports/' }),
    mode: option({ value: 'MODE', description: 'how', convert: oneOf(['fast', 'slow']) }),
    tag: repeated({ value: 'TAG', description: 'a tag', convert: oneOf(['a', 'b', 'c']) }),
    sizes: option({ value: 'N,...', description: 'sizes', convert: commaList(wholeNumber(0, 10)), default: [1] }),
    load: flag('busy'),
  },
  positionals: { name: 'FILE', description: 'inputs', min: 1, max: 2 },
  check: (o) => {
    if (o.load && o.mode === 'fast') throw new UsageError('--load and --mode fast are exclusive');
  },
  epilog: () => 'more words',
});

describe('helpers/cli.ts', () => {
  test('values: defaults (a function default called at parse time), short and long spellings, = and separate values, repeats, lists', () => {
    expect(toy.parse(['x'])).toEqual({ jobs: 2, out: resolve('default-out'), mode: undefined, tag: [], sizes: [1], load: false, positionals: ['x'] });
    expect(toy.parse(['-j', '3', '--out=o', '--mode', 'slow', '--tag', 'a', '--tag=c', '--sizes', '0,10', '--load', 'x', 'y'])).toEqual({
      jobs: 3,
      out: resolve('o'),
      mode: 'slow',
      tag: ['a', 'c'],
      sizes: [0, 10],
      load: true,
      positionals: ['x', 'y'],
    });
    expect(toy.parse(['-j4', '--jobs', '5', 'x'])!.jobs).toBe(5); // the last one counts
    expect(toy.parse(['--', '--load'])!.positionals).toEqual(['--load']); // after --, words are arguments
    expect(toy.parse(['x', '--out=-odd'])!.out).toBe(resolve('-odd')); // a value that starts with '-': written with =
  });

  test.for([
    { argv: ['--bogus', 'x'], says: "unknown option '--bogus' (valid: --jobs, --out, --mode, --tag, --sizes, --load, --help)" },
    { argv: ['-q', 'x'], says: "unknown option '-q' (valid: --jobs, --out, --mode, --tag, --sizes, --load, --help)" },
    { argv: ['-j', '0', 'x'], says: "-j takes a whole number >= 1, got '0'" },
    { argv: ['--jobs=1.5', 'x'], says: "--jobs takes a whole number >= 1, got '1.5'" },
    { argv: ['x', '--jobs'], says: '--jobs needs a whole number >= 1' },
    { argv: ['--out', '--load', 'x'], says: "--out needs a directory (to give a value that starts with '-', write --out=VALUE)" },
    { argv: ['--out=', 'x'], says: "--out takes a directory, got ''" },
    { argv: ['--mode', 'medium', 'x'], says: "--mode takes fast or slow, got 'medium'" },
    { argv: ['--tag', 'd', 'x'], says: "--tag takes a, b or c, got 'd'" },
    {
      argv: ['--sizes', '1,11,x', 'x'],
      says: "--sizes takes a whole number from 0 to 10, or several separated by commas, got '1,11,x' (not valid: '11', 'x')",
    },
    { argv: ['--load=yes', 'x'], says: "--load takes no value, got '--load=yes'" },
    { argv: [], says: 'needs at least one FILE, got none' },
    { argv: ['x', 'y', 'z'], says: "unexpected argument 'z'" },
    { argv: ['--load', '--mode', 'fast', 'x'], says: '--load and --mode fast are exclusive' },
  ])('refuses $argv: $says', async ({ argv, says }) => {
    expect(() => toy.parse(argv)).toThrow(new UsageError(says));
    const r = await run(toy, argv);
    expect(r).toMatchObject({ code: EXIT.usage, stdout: '', reached: false });
    expect(r.stderr).toBe(`toy: ${says}\n${toy.usage()}  (--help for more)\n`);
  });

  test('the usage line and --help come from the declaration; --help wins over a bad argument, on stdout, status 0', async () => {
    expect(toy.usage()).toBe('usage: npm run toy -- [-j N] [--out DIR] [--mode MODE] [--tag TAG]... [--sizes N,...] [--load] FILE [FILE]');
    const r = await run(toy, ['--bogus', '-h']);
    expect(r).toMatchObject({ code: EXIT.ok, stderr: '', reached: false });
    expect(r.stdout).toBe(toy.help());
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        toy.usage(),
        'A command to test the parser with.',
        '  -j, --jobs N   at a time (a whole number >= 1; default 2)',
        '  --out DIR      where (a directory; default reports/)',
        '  --mode MODE    how (fast or slow)',
        '  --tag TAG      a tag (a, b or c; may be repeated)',
        '  --sizes N,...  sizes (a whole number from 0 to 10, or several separated by commas; default 1)',
        '  --load         busy',
        '  -h, --help     print this help and exit',
        '  FILE           inputs',
        'more words',
      ]),
    );
    expect(defineCommand({ name: 'bare', summary: 's', options: {} }).usage()).toBe('usage: npm run bare');
  });

  test("main's status is the exit status; a CommandFailure is status 1 with its message; any other error is a defect and propagates", async () => {
    expect((await run(toy, ['x'], () => 3)).code).toBe(3);
    expect(await run(toy, ['x'], () => Promise.resolve(undefined))).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(await run(toy, ['x'], () => fail('the disk is full'))).toMatchObject({ code: EXIT.failure, stderr: 'toy: the disk is full\n' });
    // A usage problem only main can judge (it needs a lookup) gets the usage line too.
    expect(
      await run(toy, ['x'], () => {
        throw new UsageError('no such thing');
      }),
    ).toMatchObject({ code: EXIT.usage, stderr: `toy: no such thing\n${toy.usage()}  (--help for more)\n` });
    await expect(
      run(toy, ['x'], () => {
        throw new TypeError('a bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(new CommandFailure('x')).toBeInstanceOf(Error);
  });
});

// ------------------------------------------------------------------ every script

/** Every script under scripts/ but lab.ts (the lab's experiments are checked in lab.test.ts). */
const SCRIPTS = readdirSync(join(PROJECT_ROOT, 'scripts'))
  .filter((f) => f.endsWith('.ts') && f !== 'lab.ts')
  .map((f) => f.replace(/\.ts$/, ''));

const load = async (script: string) => (await import(`../../scripts/${script}.ts`)) as { command: Command<Record<string, AnyOption>, unknown> };

test('every script exports its command, and importing it runs nothing; --help prints its usage, status 0', async () => {
  expect(SCRIPTS.sort()).toEqual([
    'bench',
    'bench-kernels',
    'bench-page',
    'bench-suite',
    'build-probes',
    'check-environments',
    'check-faults',
    'check-flakes',
    'kernels',
    'report',
    'report-matrix',
    'rule-fixture',
  ]);
  for (const script of SCRIPTS) {
    const { command } = await load(script);
    const r = await run(command, ['--help']);
    expect(r.code, script).toBe(EXIT.ok);
    // Run through npm (npm run NAME), or, for a developer's tool with no npm script, as its invocation says.
    const invocation = command.spec.invocation ?? `npm run ${command.spec.name}`;
    expect(r.stdout.startsWith(`usage: ${invocation}`), `${script}: ${r.stdout.split('\n')[0]}`).toBe(true);
  }
});

test.for([
  { script: 'kernels', argv: ['--kernel', '9.99'], says: "--kernel takes 5.10, 6.1, 6.12 or newest (kernels.json), got '9.99'" },
  { script: 'kernels', argv: ['--hang', '4.19'], says: "--hang takes 5.10, 6.1, 6.12 or newest (kernels.json), got '4.19'" },
  { script: 'kernels', argv: ['-j', '0'], says: "-j takes a whole number >= 1, got '0'" },
  { script: 'kernels', argv: ['--jobs'], says: '--jobs needs a whole number >= 1' },
  { script: 'kernels', argv: ['--timeout', 'soon'], says: "--timeout takes a whole number >= 10, got 'soon'" },
  { script: 'kernels', argv: ['--timeout', '9'], says: "--timeout takes a whole number >= 10, got '9'" },
  { script: 'kernels', argv: ['--out'], says: '--out needs a directory' },
  {
    script: 'kernels',
    argv: ['--host-report', 'a.json', '--no-host'],
    says: '--host-report and --no-host are exclusive: the host column comes from a file or is left out',
  },
  { script: 'kernels', argv: ['--frobnicate'], says: /^unknown option '--frobnicate' \(valid: --kernel, --jobs/ },
  { script: 'kernels', argv: ['6.1'], says: "unexpected argument '6.1'" },
  {
    script: 'check-environments',
    argv: ['--only', 'moon'],
    says: "--only takes root, unprivileged, pid-namespace, hidepid, no-clone3, cpu-load or container, or several separated by commas, got 'moon'",
  },
  { script: 'check-environments', argv: ['--only', 'root,moon'], says: /got 'root,moon' \(not valid: 'moon'\)$/ },
  { script: 'check-environments', argv: ['--out'], says: '--out needs a directory' },
  { script: 'check-environments', argv: ['--frobnicate'], says: "unknown option '--frobnicate' (valid: --only, --out, --help)" },
  { script: 'check-flakes', argv: ['many'], says: "N takes a whole number >= 1, got 'many'" },
  { script: 'check-flakes', argv: ['0'], says: "N takes a whole number >= 1, got '0'" },
  { script: 'check-flakes', argv: ['3', '4'], says: "unexpected argument '4'" },
  { script: 'check-flakes', argv: ['--load=yes'], says: "--load takes no value, got '--load=yes'" },
  { script: 'check-faults', argv: ['--syscall', 'tgkill:BOOM'], says: "--syscall: unknown action 'BOOM' in 'tgkill:BOOM' (valid: EPERM, ENOSYS, KILL_THREAD)" },
  { script: 'check-faults', argv: ['--syscall', 'Bad-Name'], says: /^--syscall takes NAME or NAME:ACTION .*, got 'Bad-Name'$/ },
  { script: 'check-faults', argv: ['--syscall', 'tgkill:EPERM:x'], says: /^--syscall takes NAME or NAME:ACTION .*, got 'tgkill:EPERM:x'$/ },
  { script: 'check-faults', argv: ['--syscall'], says: /^--syscall needs NAME or NAME:ACTION/ },
  { script: 'check-faults', argv: ['--errno', 'EINVAL'], says: "--errno takes EPERM or ENOSYS, got 'EINVAL'" },
  { script: 'check-faults', argv: ['--kill', '--errno', 'ENOSYS'], says: '--kill and --errno are exclusive: a refused call either fails or kills its thread' },
  { script: 'check-faults', argv: ['-j', '0'], says: "-j takes a whole number >= 1, got '0'" },
  { script: 'check-faults', argv: ['--probe-timeout', 'soon'], says: "--probe-timeout takes a whole number >= 100, got 'soon'" },
  { script: 'check-faults', argv: ['--probe-timeout', '99'], says: "--probe-timeout takes a whole number >= 100, got '99'" },
  {
    script: 'check-faults',
    argv: ['--frobnicate'],
    says: /^unknown option '--frobnicate' \(valid: --syscall, --errno, --kill, --jobs, --probe-timeout, --out, --help\)$/,
  },
  { script: 'bench', argv: ['--probe-runs', '0'], says: "--probe-runs takes a whole number >= 1, got '0'" },
  { script: 'bench-suite', argv: ['--runs', 'many'], says: "--runs takes a whole number >= 1, got 'many'" },
  { script: 'bench', argv: ['--probe-runs', 'x'], says: "--probe-runs takes a whole number >= 1, got 'x'" },
  { script: 'bench', argv: ['fast'], says: "unexpected argument 'fast'" },
  { script: 'build-probes', argv: ['--frobnicate'], says: "unknown option '--frobnicate' (valid: --arch, --help)" },
  { script: 'report', argv: ['--bogus'], says: "unknown option '--bogus' (valid: --libc, --out, --probe-wrapper, --help)" },
  { script: 'report', argv: ['--libc', 'bionic'], says: "--libc takes glibc or musl, got 'bionic'" },
  { script: 'report', argv: ['--out'], says: '--out needs a directory' },
  {
    script: 'report',
    argv: ['cases/tooling/lab.test.ts'],
    says: /^no claim case file matches 'cases\/tooling\/lab\.test\.ts' \(the claim case files: cases\/claims\/ids\.test\.ts, .*; the other tests run with npm test\)$/,
  },
  { script: 'report-matrix', argv: [], says: 'needs at least one REPORT, got none' },
  { script: 'report-matrix', argv: ['--out'], says: '--out needs a directory' },
  { script: 'report-matrix', argv: ['--frobnicate', 'a.json'], says: "unknown option '--frobnicate' (valid: --out, --help)" },
  { script: 'rule-fixture', argv: ['--from'], says: '--from needs a claims.json, or a directory holding one' },
  { script: 'rule-fixture', argv: ['--frobnicate'], says: "unknown option '--frobnicate' (valid: --from, --help)" },
  {
    script: 'rule-fixture',
    argv: ['psView', 'frobnicate'],
    says: /^KIND takes an observation kind a rule reads or keeps as evidence, or environment, got 'frobnicate' \(the kinds: [a-zA-Z, ]*\bpsView\b/,
  },
])('$script $argv', async ({ script, argv, says }) => {
  const { command } = await load(script);
  const r = await run(command, argv);
  expect(r.reached, 'the command went on to work').toBe(false);
  expect(r.code).toBe(EXIT.usage);
  expect(r.stdout).toBe('');
  const [first, usage, ...more] = r.stderr.trimEnd().split('\n');
  expect(first!.startsWith(`${command.spec.name}: `), first).toBe(true);
  const problem = first!.slice(command.spec.name.length + 2);
  if (typeof says === 'string') expect(problem).toBe(says);
  else expect(problem).toMatch(says);
  expect(usage).toBe(`${command.usage()}  (--help for more)`);
  expect(more).toEqual([]);
});

describe('report: the main job runs the claim case files only, narrowed by filters', async () => {
  const { selectCaseFiles } = await import('../../scripts/report.js');
  test.for([
    { filters: [], files: [...CLAIM_CASE_FILES] },
    { filters: ['ids'], files: ['cases/claims/ids.test.ts'] },
    { filters: ['thread'], files: ['cases/claims/thread-group.test.ts', 'cases/claims/kernel-threads.test.ts'] },
    { filters: ['cases/claims/ps.test.ts', 'proc'], files: ['cases/claims/proc.test.ts', 'cases/claims/ps.test.ts'] },
    { filters: [join(PROJECT_ROOT, 'cases/claims/clone.test.ts')], files: ['cases/claims/clone.test.ts'] },
  ])('$filters', ({ filters, files }) => {
    expect(selectCaseFiles(filters)).toEqual(files);
  });
});

test('rule-fixture: a report that cannot be read stops it with the file, the problem and what to do, before any fixture is written', async () => {
  const { command, main } = await import('../../scripts/rule-fixture.js');
  const missing = join(PROJECT_ROOT, 'cases', 'fixtures', 'no-such-report.json');
  const r = await run(command, ['--from', missing], main);
  expect(r).toMatchObject({ code: EXIT.failure, stdout: '' });
  expect(r.stderr).toMatch(
    new RegExp(`^rule-fixture: .*no-such-report\\.json.*ENOENT.*\\(write one with a healthy npm test, or name another with --from\\)\\n$`),
  );
});

test('check:faults: a syscall this architecture does not define is a usage error (judged from <sys/syscall.h>)', async () => {
  const { checkSyscallNames } = await import('../../scripts/check-faults.js');
  const table = await syscallTable();
  expect(() => checkSyscallNames([{ name: 'tgkill' }, { name: 'clone3' }], table)).not.toThrow();
  expect(() => checkSyscallNames([{ name: 'tgkill' }, { name: 'frobnicate' }], table)).toThrow(
    new UsageError(`unknown syscall 'frobnicate': <sys/syscall.h> defines no __NR_frobnicate on ${process.arch}`),
  );
});

// ------------------------------------------------------------------ what the shell sees

const TSX = join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs');

describe('a real run: exit status 2, the problem, the usage line', () => {
  test.for([
    // Refused by the parser, before main(); the script with the fewest imports, since tsx
    // transforms every module a script loads before its parser runs.
    {
      script: 'build-probes.ts',
      args: ['--frobnicate'],
      says: /^build:probes: unknown option '--frobnicate' \(valid: --arch, --help\)$/,
      usage: /^usage: npm run build:probes -- \[--arch ARCH\] {2}\(--help for more\)$/,
    },
    // (A refusal inside main(), e.g. check:faults' syscall lookup, takes the same runCommand path: checked in-process above.)
  ])('$script $args', async ({ script, args, says, usage }) => {
    const r = await execa(process.execPath, [TSX, join(PROJECT_ROOT, 'scripts', script), ...args], { cwd: PROJECT_ROOT, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(says);
    expect(lines[1]).toMatch(usage);
    expect(lines).toHaveLength(2);
  });
});
