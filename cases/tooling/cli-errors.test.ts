/**
 * The command-line tools refuse bad arguments with one clear line and exit
 * status 2, before doing any work (the lab and the report commands have
 * theirs in lab.test.ts and reports.test.ts).
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeEach, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { hostOnlyReason } from '../../helpers/harness/environment.js';

const TSX = join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs');
const HOST_ONLY = hostOnlyReason('argument checking of the command-line tools (kernel-independent)');
beforeEach(({ skip }) => {
  if (HOST_ONLY) skip(HOST_ONLY);
});

test.for([
  { script: 'kernels.ts', args: ['--kernel', '9.99'], says: /unknown kernel '9\.99': choose from 5\.10, 6\.1, 6\.12, newest \(kernels\.json\)/ },
  { script: 'kernels.ts', args: ['-j', '0'], says: /-j takes a whole number >= 1, got '0'/ },
  { script: 'kernels.ts', args: ['--timeout', 'soon'], says: /--timeout takes a whole number >= 10, got 'soon'/ },
  { script: 'kernels.ts', args: ['--frobnicate'], says: /unknown argument '--frobnicate'/ },
  { script: 'check-environments.ts', args: ['--only', 'moon'], says: /unknown environment 'moon' \(valid: root, unprivileged, pid-namespace, hidepid, no-clone3, cpu-load\)/ },
  { script: 'check-flakes.ts', args: ['many'], says: /a whole number >= 1; got 'many'/ },
  { script: 'check-faults.ts', args: ['--syscall', 'frobnicate'], says: /unknown syscall 'frobnicate': <sys\/syscall\.h> defines no __NR_frobnicate/ },
  { script: 'check-faults.ts', args: ['--syscall', 'tgkill:BOOM'], says: /unknown action 'BOOM' in 'tgkill:BOOM' \(valid: EPERM, ENOSYS, KILL_THREAD\)/ },
  { script: 'check-faults.ts', args: ['--syscall'], says: /--syscall needs a syscall name/ },
  { script: 'check-faults.ts', args: ['--errno', 'EINVAL'], says: /--errno takes EPERM or ENOSYS, got 'EINVAL'/ },
  { script: 'check-faults.ts', args: ['--kill', '--errno', 'ENOSYS'], says: /--kill and --errno are exclusive/ },
  { script: 'check-faults.ts', args: ['-j', '0'], says: /-j takes a whole number >= 1, got '0'/ },
  { script: 'check-faults.ts', args: ['--probe-timeout', 'soon'], says: /--probe-timeout takes a whole number >= 100, got 'soon'/ },
  { script: 'check-faults.ts', args: ['--frobnicate'], says: /check:faults: unknown argument '--frobnicate' \(usage: npm run check:faults/ },
])('$script $args', async ({ script, args, says }) => {
  const r = await execa(process.execPath, [TSX, join(PROJECT_ROOT, 'scripts', script), ...args], { cwd: PROJECT_ROOT, reject: false });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(says);
  // check:faults says it in one line, usage included (the others may add a usage line)
  if (script === 'check-faults.ts') expect(r.stderr.trim().split('\n')).toHaveLength(1);
});
