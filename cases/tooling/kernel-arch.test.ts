/**
 * What `npm run kernels -- --arch` changes, over synthetic inputs only (no
 * download, no boot): QEMU's command line and the kernel's per architecture
 * from the machine table, the shares a guest of another architecture mounts
 * (its own root, the project and node_modules under the bindings overlay) as
 * /init's text, the console option the config check asks for, `arch` in
 * kernels.json, which guests a run plans, the image's architecture and
 * release from its header or name, and the column label.
 */
import { describe, expect, test } from 'vitest';
import { guestCpus, guestLayout, guestVitestFlags, qemuCommand } from '../../helpers/kernels/guest.js';
import { HOST_ROOT_SHARES, initScript } from '../../helpers/kernels/initramfs.js';
import { checkKernelConfig, imageArch, imageRelease, parseKernelConfig, requirementsFor } from '../../helpers/kernels/kconfig.js';
import { kernelCommandLine, machineFor, MACHINES, qemuMachineArgs } from '../../helpers/kernels/machine.js';
import { archesOf, columnLabel, KernelSourceError, packageArch, parseKernelEntry, parseKernelsFile, planGuests } from '../../helpers/kernels/sources.js';

const userspace = { root: '/c/us/root', nodeModulesOverlay: '/c/us/node_modules', node: '/usr/local/bin/node', busybox: '/c/us/root/bin/busybox' };

describe('the machine table decides QEMU and the kernel command line', () => {
  test.for([
    { arch: 'x86_64', qemu: 'qemu-system-x86_64', machine: 'q35', cpu: 'max', console: 'ttyS0' },
    { arch: 'arm64', qemu: 'qemu-system-aarch64', machine: 'virt', cpu: 'max,pauth=off,sme=off,sve=off', console: 'ttyAMA0' },
  ] as const)('$arch: $qemu -machine $machine -cpu $cpu, console=$console', ({ arch, qemu, machine, cpu, console }) => {
    const m = MACHINES[arch];
    const q = qemuCommand({
      machine: m,
      accel: 'tcg',
      memoryMb: 2048,
      vcpus: 2,
      consoleLog: '/w/console.log',
      kernel: '/k/vmlinuz',
      initrd: '/w/initramfs.cpio',
      shares: [{ tag: 'root', at: '/', host: '/' }],
      results: '/w/results',
    });
    expect(q.file).toBe(qemu);
    const after = (flag: string) => q.args[q.args.indexOf(flag) + 1];
    expect([after('-machine'), after('-accel'), after('-cpu')]).toEqual([machine, 'tcg', cpu]);
    expect(after('-append')).toBe(`console=${console} panic=-1 quiet loglevel=3`);
    expect(after('-kernel')).toBe('/k/vmlinuz');
    // The shares are read-only; only the results share is written by the guest.
    expect(q.args.filter((a) => a.startsWith('local,'))).toEqual([
      'local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap',
      'local,path=/w/results,mount_tag=results,security_model=none,multidevs=remap',
    ]);
  });

  test('KVM passes the host CPU through (-cpu max), whatever the TCG model is', () => {
    expect(qemuMachineArgs(MACHINES.arm64, 'kvm')).toEqual(['-machine', 'virt', '-accel', 'kvm', '-cpu', 'max']);
    expect(kernelCommandLine(MACHINES.arm64, 'x')).toBe('console=ttyAMA0 x');
  });

  test('other spellings of an architecture name the same machine; an unknown one says what is known', () => {
    expect(['arm64', 'aarch64', 'AArch64'].map((n) => machineFor(n).arch)).toEqual(['arm64', 'arm64', 'arm64']);
    expect(['x86_64', 'amd64', 'x64'].map((n) => machineFor(n).arch)).toEqual(['x86_64', 'x86_64', 'x86_64']);
    expect(() => machineFor('riscv64')).toThrow('unknown architecture "riscv64": expected one of x86_64, arm64');
  });
});

describe("a guest's root", () => {
  test("of the host's architecture: the host's / as the one share", () => {
    const l = guestLayout();
    expect(l.shares).toEqual([{ tag: 'root', at: '/', host: '/' }]);
    expect(l.node).toBe(process.execPath);
  });

  test('of another: the userspace as /, the project and node_modules at their host paths, the bindings over node_modules', () => {
    const l = guestLayout(userspace, '/p/proj');
    // No node_modules under /p/proj here: its path is taken as is (a real one is followed to its target).
    expect(l.shares).toEqual([
      { tag: 'root', at: '/', host: '/c/us/root' },
      { tag: 'project', at: '/p/proj', host: '/p/proj' },
      { tag: 'nm', at: '/p/proj/node_modules', host: '/p/proj/node_modules', above: ['nmo'] },
      { tag: 'nmo', at: '/p/proj/node_modules', host: '/c/us/node_modules' },
    ]);
    expect([l.node, l.busybox, l.hide]).toEqual(['/usr/local/bin/node', '/c/us/root/bin/busybox', { dirs: [], files: [] }]);
  });

  test('/init mounts each share read-only under a tmpfs layer, the overlay of bindings first in lowerdir', () => {
    const shares = guestLayout(userspace, '/p/proj').shares.filter((s) => s.tag !== 'nmo');
    const init = initScript({ modules: ['9p'], command: 'true', hide: [], hideFiles: [], shares });
    const mounts = init.split('\n').filter((l) => /^(mkdir -p \/mnt|mount -t (9p|overlay))/.test(l));
    const ro = 'trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose';
    expect(mounts.map((l) => l.replace(/ \|\| .*$/, ''))).toEqual([
      `mkdir -p /mnt/root && mount -t 9p -o ${ro} root /mnt/root`,
      "mount -t overlay overlay -o lowerdir=/mnt/root,upperdir=/rw/root/upper,workdir=/rw/root/work '/root'",
      `mkdir -p /mnt/project && mount -t 9p -o ${ro} project /mnt/project`,
      "mount -t overlay overlay -o lowerdir=/mnt/project,upperdir=/rw/project/upper,workdir=/rw/project/work '/root/p/proj'",
      `mkdir -p /mnt/nmo && mount -t 9p -o ${ro} nmo /mnt/nmo`,
      `mkdir -p /mnt/nm && mount -t 9p -o ${ro} nm /mnt/nm`,
      "mount -t overlay overlay -o lowerdir=/mnt/nmo:/mnt/nm,upperdir=/rw/nm/upper,workdir=/rw/nm/work '/root/p/proj/node_modules'",
      'mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /root/clonelab-results',
    ]);
    // The results share is mounted after the shares, writable (no ro).
    expect(init.indexOf('results /root/clonelab-results')).toBeGreaterThan(init.indexOf("'/root/p/proj/node_modules'"));
  });

  test("the host-root layout's /init is one overlay at /root; a first share that is not / is refused", () => {
    const init = initScript({ modules: [], command: 'true', hide: ['/home'], hideFiles: [], shares: HOST_ROOT_SHARES });
    expect(init.match(/mount -t overlay/g)).toHaveLength(1);
    expect(init).toContain('[ -d "/root/home" ] && mount -t tmpfs');
    expect(() => initScript({ modules: [], command: 'true', hide: [], hideFiles: [], shares: [{ tag: 'project', at: '/p' }] })).toThrow(
      "the first share must be the guest's root",
    );
  });
});

describe('the config check asks for the console of the machine booted', () => {
  const base = (consoleOption: string) =>
    parseKernelConfig(
      [...requirementsFor(MACHINES.x86_64), ...requirementsFor(MACHINES.arm64)]
        .flatMap((r) => r.anyOf)
        .filter((o) => !o.startsWith('SERIAL_'))
        .concat(consoleOption)
        .map((o) => `CONFIG_${o}=y`)
        .join('\n'),
    );
  test.for([
    { arch: 'x86_64', has: 'SERIAL_8250_CONSOLE', lacks: 'SERIAL_AMBA_PL011_CONSOLE' },
    { arch: 'arm64', has: 'SERIAL_AMBA_PL011_CONSOLE', lacks: 'SERIAL_8250_CONSOLE' },
  ] as const)('$arch needs CONFIG_$has', ({ arch, has, lacks }) => {
    const m = MACHINES[arch];
    expect(checkKernelConfig(base(has), true, m).missing).toEqual([]);
    const c = checkKernelConfig(base(lacks), true, m);
    expect(c.missing.map((x) => x.req.anyOf)).toEqual([[has]]);
    expect(c.suiteLine).toBe(`CONFIG_${has} not set (console=${m.console}: without it a broken guest leaves no console log)`);
    expect(c.bootLine).toBeUndefined();
  });
});

describe('images: architecture from the header, release from the header or the name', () => {
  const bz = Buffer.alloc(0x400);
  bz.write('HdrS', 0x202, 'latin1');
  bz.writeUInt16LE(0x100, 0x20e);
  bz.write('6.1.0-test (x@y) #1\0', 0x300, 'latin1');
  const arm = Buffer.alloc(0x100);
  arm.write('ARM\x64', 0x38, 'latin1');
  test('a bzImage is x86_64 and names its release; an arm64 Image is arm64 and its release comes from the file name', () => {
    expect([imageArch(bz), imageArch(arm), imageArch(Buffer.alloc(0x400))]).toEqual(['x86_64', 'arm64', undefined]);
    expect(imageRelease(bz, '/b/bzImage')).toBe('6.1.0-test');
    expect(imageRelease(arm, '/boot/vmlinuz-6.12.117+deb13-arm64')).toBe('6.12.117+deb13-arm64');
    expect(imageRelease(arm, '/src/arch/arm64/boot/Image')).toBeUndefined();
  });
});

describe('arch in kernels.json and the guests a run plans', () => {
  const at = (raw: unknown) => parseKernelEntry(raw, '/base', 'kernels.json kernels[0]');

  test('"arch" is optional, takes the usual spellings, and is checked', () => {
    expect(at({ version: '6.12', suite: 'trixie' }).arch).toBeUndefined();
    expect(at({ version: '6.12', suite: 'trixie', arch: 'aarch64' }).arch).toBe('arm64');
    expect(() => at({ version: '6.12', suite: 'trixie', arch: 'mips' })).toThrow('kernels.json kernels[0]: "arch": unknown architecture "mips"');
    expect(() => at({ package: 'linux-image-6.1.0-28-cloud-amd64', arch: 'arm64' })).toThrow('linux-image-6.1.0-28-cloud-amd64 is an x86_64 kernel, not arm64');
  });

  test('a version boots on every architecture; a package on the one its flavour suffix names; others on x86_64 unless tied', () => {
    expect(archesOf(at({ version: '6.1', suite: 'bookworm' }))).toEqual(['x86_64', 'arm64']);
    expect(archesOf(at({ package: 'linux-image-6.12.117+deb13-arm64' }))).toEqual(['arm64']);
    expect(archesOf(at({ package: 'linux-image-rt-amd64' }))).toEqual(['x86_64']);
    expect(archesOf(at({ image: 'Image', arch: 'arm64' }))).toEqual(['arm64']);
    expect(archesOf(at({ deb: 'k.deb' }))).toEqual(['x86_64']);
    expect([packageArch('linux-image-arm64'), packageArch('linux-image-6.1.0-28-cloud-amd64'), packageArch('linux-headers-6.1-common')]).toEqual([
      'arm64',
      'x86_64',
      undefined,
    ]);
  });

  test('--arch all with two kernels plans four guests; ids name the architecture unless the name does or it is x86_64', () => {
    const file = parseKernelsFile(
      JSON.stringify({
        kernels: [
          { version: '6.1', suite: 'bookworm' },
          { version: '6.12', suite: 'trixie' },
          { package: 'linux-image-arm64', suite: 'sid' },
        ],
      }),
      '/base/kernels.json',
    );
    const [k61, k612, meta] = file.kernels;
    const plan = planGuests([k61!, k612!], ['x86_64', 'arm64'], () => true);
    expect(plan.map((g) => [g.id, g.machine.arch])).toEqual([
      ['6.1', 'x86_64'],
      ['6.1-arm64', 'arm64'],
      ['6.12', 'x86_64'],
      ['6.12-arm64', 'arm64'],
    ]);
    expect(planGuests([meta!], ['x86_64', 'arm64'], () => true).map((g) => g.id)).toEqual(['linux-image-arm64']);
  });

  test('a kernel asked for on an architecture it cannot boot on is an error; from the default list it is left out', () => {
    const arm = at({ package: 'linux-image-arm64', suite: 'sid' });
    expect(() => planGuests([arm], ['x86_64'], () => true)).toThrow(KernelSourceError);
    expect(() => planGuests([arm], ['x86_64'], () => true)).toThrow('linux-image-arm64 is an arm64 kernel; this run boots x86_64 (--arch)');
    expect(planGuests([arm], ['x86_64'], () => false)).toEqual([]);
  });

  test('a column leads with its architecture when the matrix holds more than one', () => {
    const k = { booted: 'linux-image-6.12.117+deb13-arm64 6.12.117-1 (trixie)', release: '6.12.117+deb13-arm64' };
    expect(columnLabel('6.12', k, '6.12.117+deb13-arm64', 'arm64')).toBe(
      'arm64 6.12: linux-image-6.12.117+deb13-arm64 6.12.117-1 (trixie); uname -r 6.12.117+deb13-arm64',
    );
    expect(columnLabel('6.12', k, '6.12.117+deb13-arm64')).toBe('6.12: linux-image-6.12.117+deb13-arm64 6.12.117-1 (trixie); uname -r 6.12.117+deb13-arm64');
  });
});

test('guests never have more vCPUs between them than the host has cores, and one vitest worker per vCPU', () => {
  expect([guestCpus(1, 2), guestCpus(2, 2), guestCpus(4, 2), guestCpus(2, 8), guestCpus(3, 8)]).toEqual([2, 1, 1, 4, 2]);
  expect(guestVitestFlags(1, {})).toEqual(['--maxWorkers=1']);
  // A paired measurement may replace them.
  expect(guestVitestFlags(2, { CLONELAB_GUEST_VITEST_FLAGS: '--maxWorkers=1 --no-file-parallelism' })).toEqual(['--maxWorkers=1', '--no-file-parallelism']);
});
