/**
 * node --import tsx helpers/harness/oci-run.ts --bundle DIR -- COMMAND...
 *
 * Runs COMMAND in an OCI container (crun) made from DIR/spec.json (a
 * ContainerSpec of helpers/harness/oci.ts without its command, environment,
 * directory and root): PID 1 is `sh -c` with COMMAND as its child, in this
 * process's directory and with its environment, as a `podman run -e ... -w
 * $PWD` would. A prefix of helpers/harness/nested-suite.ts: it forks crun and
 * waits, and exits with the container's status (128+N for a signal).
 * SIGTERM, SIGINT and SIGHUP are passed to the container's PID 1 (crun kill).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { containerConfig, crunCommand, hybridCgroups, pid1Args, type ContainerSpec } from './oci.js';
import { writeFileAtomic } from './fs.js';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
if (argv[0] !== '--bundle' || !argv[1] || dash !== 2 || dash === argv.length - 1) {
  console.error('usage: oci-run.ts --bundle DIR -- COMMAND...');
  process.exit(2);
}
const bundle = argv[1];
const command = argv.slice(dash + 1);
const rootfs = join(bundle, 'rootfs');
mkdirSync(rootfs, { recursive: true });
const spec = JSON.parse(readFileSync(join(bundle, 'spec.json'), 'utf8')) as Omit<ContainerSpec, 'args' | 'env' | 'cwd' | 'rootfs'>;
const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
writeFileAtomic(
  join(bundle, 'config.json'),
  `${JSON.stringify(containerConfig({ ...spec, rootfs, args: pid1Args(command), env, cwd: process.cwd() }), null, 2)}\n`,
);

// One container per run: the name carries our PID so that two runs never meet.
const id = `clonelab-${process.pid}`;
const [cmd, ...args] = crunCommand(bundle, id, hybridCgroups(readFileSync('/proc/self/mountinfo', 'utf8')));
const crun = spawn(cmd!, args, { stdio: 'inherit' });
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => spawnSync('crun', ['kill', id, sig]));
crun.on('error', (e) => {
  console.error(`oci-run: cannot run ${cmd} (${e.message}): install util-linux and crun (apt-get install crun)`);
  process.exit(127);
});
crun.on('exit', (code, signal) => {
  spawnSync('crun', ['delete', '--force', id]);
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
