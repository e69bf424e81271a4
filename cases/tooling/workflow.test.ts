/**
 * .github/workflows on GitHub's hosted runners, checked here rather than found
 * out in a red CI run: every workflow passes the maintained validator
 * (action-validator's engine, @action-validator/core: GitHub's workflow schema,
 * the same WebAssembly its CLI runs, in-process), and a broken copy does not;
 * kernels.yml supplies what an Ubuntu runner lacks (Debian's archive keyring,
 * /dev/kvm opened by a udev rule, a cache of the kernel packages) and runs
 * the command the README names. Then the runner's conditions are simulated
 * with the functions `npm run kernels` decides with (helpers/kernels/apt.ts,
 * host.ts): no Debian APT source (an empty etc/apt, or an Ubuntu runner's),
 * no keyring, no KVM. Nothing touches /etc/apt or /dev/kvm.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { validateWorkflow, type ValidationState } from '@action-validator/core';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import {
  aptSourceLine,
  chooseDebianMirror,
  DEBIAN_KEYRING,
  DEBIAN_REDIRECTOR,
  debianKeyring,
  debianMirrorIn,
  KernelFetchError,
  PrivateApt,
  privateSourcesList,
} from '../../helpers/kernels/apt.js';
import { accelLine, chooseAccel } from '../../helpers/kernels/host.js';
import { parseKernelsFile } from '../../helpers/kernels/sources.js';

const WORKFLOWS = join(PROJECT_ROOT, '.github', 'workflows');
const kernelsYml = readFileSync(join(WORKFLOWS, 'kernels.yml'), 'utf8');

let work: DirectoryResult;
beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-workflow-' });
});
afterAll(() => work?.cleanup());

/** The validator's verdict on one file (what `action-validator FILE` prints, without a node start-up per file). */
function validate(file: string): ValidationState {
  return validateWorkflow(readFileSync(file, 'utf8'));
}

/** The steps of the job `job` in kernels.yml, as text blocks (one "- " item each). */
function stepsOf(job: string): string[] {
  const jobText = kernelsYml.split(/^ {2}(?=\S)/m).find((j) => j.startsWith(`${job}:`));
  if (!jobText) throw new Error(`kernels.yml has no job "${job}"`);
  return jobText.split(/^ {6}- /m).slice(1);
}

describe('.github/workflows passes the maintained validator', () => {
  test('every workflow validates, and a broken copy does not', () => {
    const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
    expect(files).toContain('kernels.yml');
    // A typo GitHub would reject (a job with "step" for "steps"): the validator must say so,
    // or this test could not fail.
    const broken = join(work.path, 'broken.yml');
    const mutated = kernelsYml.replace(/^(\s+)steps:/m, '$1step:');
    expect(mutated).not.toBe(kernelsYml);
    writeFileSync(broken, mutated);
    const [bad, ...good] = [validate(broken), ...files.map((f) => validate(join(WORKFLOWS, f)))];
    good.forEach((r, i) => expect(r, `${files[i]}: ${JSON.stringify(r.errors)}`).toEqual({ actionType: 'workflow', errors: [] }));
    expect(bad).toMatchObject({ actionType: 'workflow', errors: [expect.objectContaining({ path: '/jobs/kernel' })] });
  });
});

describe('kernels.yml supplies what a hosted runner lacks', () => {
  const steps = stepsOf('kernel');
  const indexOf = (re: RegExp) => steps.findIndex((s) => re.test(s));

  test("installs Debian's archive keyring with the guest tools", () => {
    expect(steps[indexOf(/apt-get install/)]).toMatch(/\bdebian-archive-keyring\b/);
    for (const pkg of ['qemu-system-x86', 'busybox-static', 'xz-utils', 'zstd']) expect(steps[indexOf(/apt-get install/)]).toMatch(new RegExp(`\\b${pkg}\\b`));
  });

  test('opens /dev/kvm with the udev rule, before the guests run, and tolerates a runner without it', () => {
    const i = indexOf(/udev/);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(steps[i]).toContain(`'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' | sudo tee /etc/udev/rules.d/`);
    expect(steps[i]).toContain('udevadm control --reload-rules');
    expect(steps[i]).toContain('udevadm trigger --name-match=kvm');
    expect(steps[i]).toMatch(/if \[ -e \/dev\/kvm \]/);
    expect(i).toBeLessThan(indexOf(/npm run kernels/));
  });

  test('caches the kernel packages where PrivateApt keeps them, restored after npm ci and keyed on kernels.json', () => {
    // cacheRoot() without CLONELAB_CACHE_DIR, which the workflow does not set.
    expect(kernelsYml).not.toContain('CLONELAB_CACHE_DIR');
    const debs = relative(PROJECT_ROOT, new PrivateApt(join(PROJECT_ROOT, 'node_modules', '.cache', 'clonelab')).debs);
    const restore = indexOf(/actions\/cache\/restore@/);
    const save = indexOf(/actions\/cache\/save@/);
    for (const i of [restore, save]) {
      expect(steps[i]).toContain(`path: ${debs}\n`);
      expect(steps[i]).toMatch(/key: kernel-debs-\$\{\{ matrix\.kernel \}\}-\$\{\{ hashFiles\('kernels\.json'\) \}\}/);
    }
    // npm ci empties node_modules, where the cache lives; lists (which expire) are not cached.
    expect(indexOf(/^run: npm ci$/m)).toBeLessThan(restore);
    expect(restore).toBeLessThan(indexOf(/npm run kernels/));
    expect(indexOf(/npm run kernels/)).toBeLessThan(save);
    expect(kernelsYml).not.toMatch(/path:.*apt\/lists/);
  });

  test("runs the README's command over kernels.json's default list, and uploads the matrix report", () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm run kernels -- [--kernel 5.10');
    expect(steps[indexOf(/npm run kernels/)]).toMatch(/run: npm run kernels -- --kernel \$\{\{ matrix\.kernel \}\} /);
    const file = join(PROJECT_ROOT, 'kernels.json');
    const listed = kernelsYml
      .match(/^\s+kernel: \[(.*)\]$/m)?.[1]
      ?.split(',')
      .map((k) => k.trim().replace(/^'|'$/g, ''));
    expect(listed).toEqual(parseKernelsFile(readFileSync(file, 'utf8'), file).default);
    const matrix = stepsOf('matrix');
    expect(matrix.some((s) => /npm run report:matrix -- --out reports\/matrix/.test(s))).toBe(true);
    expect(matrix.some((s) => s.includes('actions/upload-artifact@') && s.includes('path: reports/matrix'))).toBe(true);
  });
});

describe("a runner's conditions, simulated: what npm run kernels decides", () => {
  const UBUNTU_RUNNER = {
    'sources.list.d/ubuntu.sources':
      'Types: deb\nURIs: http://azure.archive.ubuntu.com/ubuntu/\nSuites: noble noble-updates noble-backports\nComponents: main universe restricted multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n',
    'sources.list.d/microsoft-prod.list': 'deb [arch=amd64,armhf,arm64] https://packages.microsoft.com/ubuntu/24.04/prod noble main\n',
    // Not Debian's archive though its path ends in /debian: it serves `stable`, not `main`.
    'sources.list.d/docker.list': 'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable\n',
    'sources.list': '# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n',
  };

  function etcApt(name: string, files: Record<string, string>): string {
    const dir = join(work.path, name, 'etc', 'apt');
    mkdirSync(join(dir, 'sources.list.d'), { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    return dir;
  }

  test("no Debian APT source (an empty etc/apt, or an Ubuntu runner's): Debian's redirector, and the run says why", () => {
    for (const aptDir of [etcApt('empty', {}), etcApt('ubuntu', UBUNTU_RUNNER), join(work.path, 'absent')]) {
      const m = chooseDebianMirror({ aptDir, env: {} });
      expect(m).toEqual({ uri: DEBIAN_REDIRECTOR, from: `Debian's redirector: no Debian source in ${aptDir}, no --mirror or CLONELAB_DEBIAN_MIRROR` });
    }
    // An unset repository variable arrives as an empty string: not a mirror.
    expect(chooseDebianMirror({ aptDir: etcApt('empty', {}), env: { CLONELAB_DEBIAN_MIRROR: '' } }).uri).toBe(DEBIAN_REDIRECTOR);
  });

  test("a Debian host's own source, then CLONELAB_DEBIAN_MIRROR, then --mirror, each named as the source", () => {
    const deb822 = etcApt('debian', {
      'sources.list.d/debian.sources':
        'Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
    });
    expect(chooseDebianMirror({ aptDir: deb822, env: {} })).toEqual({
      uri: 'http://mirror.example/debian',
      from: `the host's APT source ${join(deb822, 'sources.list.d', 'debian.sources')}`,
    });
    const oneLine = etcApt('debian-old', {
      ...UBUNTU_RUNNER,
      'sources.list': '# deb http://commented.example/debian sid main\ndeb http://old.example/debian bullseye main contrib\n',
    });
    expect(chooseDebianMirror({ aptDir: oneLine, env: {} }).uri).toBe('http://old.example/debian');
    expect(
      debianMirrorIn([{ file: 'x.sources', text: 'Types: deb\nURIs: http://off.example/debian\nSuites: sid\nComponents: main\nEnabled: no\n' }]),
    ).toBeUndefined();
    expect(chooseDebianMirror({ aptDir: deb822, env: { CLONELAB_DEBIAN_MIRROR: 'http://env.example/debian' } })).toEqual({
      uri: 'http://env.example/debian',
      from: 'CLONELAB_DEBIAN_MIRROR',
    });
    expect(chooseDebianMirror({ flag: 'http://flag.example/debian', aptDir: deb822, env: { CLONELAB_DEBIAN_MIRROR: 'http://env.example/debian' } })).toEqual({
      uri: 'http://flag.example/debian',
      from: '--mirror',
    });
  });

  test("packages are verified with signed-by Debian's keyring, never trusted=yes", () => {
    const keyring = join(work.path, 'debian-archive-keyring.gpg');
    writeFileSync(keyring, '');
    const k = debianKeyring({ env: {}, path: keyring });
    expect(k).toEqual({ path: keyring, from: "Debian's archive keyring" });
    const list = privateSourcesList(['bullseye', 'sid', 'sid'], DEBIAN_REDIRECTOR, k.path);
    expect(list).toBe(`deb [signed-by=${keyring}] ${DEBIAN_REDIRECTOR} bullseye main\ndeb [signed-by=${keyring}] ${DEBIAN_REDIRECTOR} sid main\n`);
    expect(list).not.toContain('trusted');
    expect(aptSourceLine(chooseDebianMirror({ aptDir: etcApt('empty', {}), env: {} }), k)).toBe(
      `[apt] mirror ${DEBIAN_REDIRECTOR} (Debian's redirector: no Debian source in ${join(work.path, 'empty', 'etc', 'apt')}, no --mirror or CLONELAB_DEBIAN_MIRROR); verified with ${keyring} (Debian's archive keyring)`,
    );
    // The default is where Debian and Ubuntu's debian-archive-keyring package put it.
    expect(DEBIAN_KEYRING).toBe('/usr/share/keyrings/debian-archive-keyring.gpg');
    expect(debianKeyring({ env: { CLONELAB_DEBIAN_KEYRING: keyring }, path: '/nonexistent' })).toEqual({ path: keyring, from: 'CLONELAB_DEBIAN_KEYRING' });
  });

  test('without the keyring the run stops with what to install, and no opt-out to unsigned packages', () => {
    const missing = join(work.path, 'no-keyring.gpg');
    expect(() => debianKeyring({ env: {}, path: missing })).toThrow(KernelFetchError);
    expect(() => debianKeyring({ env: {}, path: missing })).toThrow(
      `cannot verify Debian's packages: ${missing} is missing. Install Debian's archive keyring (Debian and Ubuntu both ship it: sudo apt-get install debian-archive-keyring)`,
    );
    expect(() => debianKeyring({ env: { CLONELAB_DEBIAN_KEYRING: missing } })).toThrow(`CLONELAB_DEBIAN_KEYRING=${missing}: no such file`);
  });

  test('no KVM: TCG, with the reason on the run line', () => {
    const absent = chooseAccel({ device: join(work.path, 'no-kvm'), cpuinfo: 'flags\t\t: fpu vmx\n' });
    expect(absent).toEqual({
      accel: 'tcg',
      why: `${join(work.path, 'no-kvm')} does not exist (no kvm module on this host, or a container without the device)`,
    });
    expect(accelLine(absent)).toBe(`TCG (${absent.why})`);
    // A path that exists but does not open read-write (a directory: EISDIR, whoever we are).
    expect(chooseAccel({ device: work.path, cpuinfo: 'flags\t\t: fpu vmx\n' })).toEqual({ accel: 'tcg', why: `${work.path} cannot be opened (EISDIR)` });
    // A device that opens on a CPU without vmx/svm (a cloud VM without nested virtualisation).
    const dev = join(work.path, 'kvm-stand-in');
    writeFileSync(dev, '');
    expect(chooseAccel({ device: dev, cpuinfo: 'flags\t\t: fpu hypervisor\n' })).toEqual({
      accel: 'tcg',
      why: `${dev} opens but the CPU offers no vmx/svm flag (nested virtualisation is off)`,
    });
    expect(chooseAccel({ device: dev, cpuinfo: 'flags\t\t: fpu svm\n' })).toEqual({ accel: 'kvm', why: 'KVM' });
    expect(accelLine({ accel: 'kvm', why: 'KVM' })).toBe('KVM');
  });
});
