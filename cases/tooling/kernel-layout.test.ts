/**
 * helpers/kernels/layout.ts over every package layout Debian has shipped:
 * each unpacked into a temporary tree as dpkg-deb -x would, with empty files
 * where the image and modules.dep go. A layout the next Debian invents fails
 * here first, with the message a user of `npm run kernels` would read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { findKernelFiles, packagesOf } from '../../helpers/kernels/layout.js';

let work: DirectoryResult;
beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-layout-' });
});
afterAll(() => work?.cleanup());

/** A tree holding these files (relative paths), each empty. */
function tree(name: string, files: string[]): string {
  const root = join(work.path, name);
  mkdirSync(root, { recursive: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), '');
  }
  return root;
}

test.for([
  {
    what: 'linux-image 5.10 (bullseye): /boot and /lib/modules',
    files: ['boot/vmlinuz-5.10.0-32-amd64', 'boot/System.map-5.10.0-32-amd64', 'lib/modules/5.10.0-32-amd64/modules.dep'],
    release: '5.10.0-32-amd64',
    image: 'boot/vmlinuz-5.10.0-32-amd64',
    modules: 'lib/modules/5.10.0-32-amd64',
    layout: '/boot/vmlinuz-RELEASE',
  },
  {
    what: 'linux-image 6.12 (trixie, /usr merged): /boot and /usr/lib/modules',
    files: ['boot/vmlinuz-6.12.57+deb13-amd64', 'usr/lib/modules/6.12.57+deb13-amd64/modules.dep'],
    release: '6.12.57+deb13-amd64',
    image: 'boot/vmlinuz-6.12.57+deb13-amd64',
    modules: 'usr/lib/modules/6.12.57+deb13-amd64',
    layout: '/boot/vmlinuz-RELEASE',
  },
  {
    what: 'linux-binary 7.x (sid): the image beside its modules, no /boot',
    files: ['usr/lib/modules/7.2.13+deb14-amd64/vmlinuz', 'usr/lib/modules/7.2.13+deb14-amd64/modules.dep'],
    release: '7.2.13+deb14-amd64',
    image: 'usr/lib/modules/7.2.13+deb14-amd64/vmlinuz',
    modules: 'usr/lib/modules/7.2.13+deb14-amd64',
    layout: '/usr/lib/modules/RELEASE/vmlinuz',
  },
])('$what', ({ what, files, release, image, modules, layout }) => {
  const root = tree(what.replace(/\W+/g, '-'), files);
  expect(findKernelFiles(root)).toEqual({ release, image: join(root, image), modulesDir: join(root, modules), layout });
});

test('a package with neither layout is refused with what was looked for', () => {
  const root = tree('headers-only', ['usr/src/linux-headers-6.1.0-40-amd64/Makefile', 'boot/config-6.1.0-40-amd64']);
  const found = findKernelFiles(root);
  expect(found).toBe(
    `no kernel image with its modules in ${root}: looked for /boot/vmlinuz-RELEASE with /lib/modules/RELEASE or ` +
      `/usr/lib/modules/RELEASE, and for /lib/modules/RELEASE/vmlinuz or /usr/lib/modules/RELEASE/vmlinuz`,
  );
});

test('an image in /boot whose modules are not in the package is not taken for a bootable kernel', () => {
  const root = tree('image-without-modules', ['boot/vmlinuz-6.1.0-40-amd64']);
  expect(typeof findKernelFiles(root)).toBe('string');
});

test.for([
  { pkg: 'linux-image-6.1.0-40-amd64', want: ['linux-image-6.1.0-40-amd64'] },
  // 7.x: the image alone; its modules, and modules.builtin (which says what needs no loading), in two more.
  {
    pkg: 'linux-binary-7.2.13+deb14-amd64',
    want: ['linux-binary-7.2.13+deb14-amd64', 'linux-modules-7.2.13+deb14-amd64', 'linux-base-7.2.13+deb14-amd64'],
  },
])('the packages unpacked for $pkg', ({ pkg, want }) => {
  expect(packagesOf(pkg)).toEqual(want);
});
