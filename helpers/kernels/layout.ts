/**
 * Where a Debian kernel package puts its image and modules, once unpacked
 * (dpkg-deb -x). The layout moved: up to 6.x, linux-image-VERSION ships
 * /boot/vmlinuz-VERSION and /lib/modules/VERSION (or /usr/lib/modules/VERSION
 * after the /usr merge); from 7.x, linux-binary-VERSION ships the image in the
 * module directory, /usr/lib/modules/VERSION/vmlinuz, and no /boot at all.
 * Every layout is tried, in that order, so the next move is one line here and
 * one case in cases/tooling/kernel-layout.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface KernelFiles {
  /** The kernel release (`uname -r` of the booted kernel). */
  release: string;
  /** The bootable image (a bzImage). */
  image: string;
  /** The directory of its modules (modules.dep and kernel/...). */
  modulesDir: string;
  /** Which layout it was found in, for the reader of a failure. */
  layout: string;
}

const MODULE_ROOTS = ['lib/modules', 'usr/lib/modules'];

/**
 * The packages to unpack into one tree for a kernel package: up to 6.x
 * linux-image-RELEASE holds image and modules; from 7.x linux-binary-RELEASE
 * holds only the image, linux-modules-RELEASE the modules and
 * linux-base-RELEASE modules.builtin (what is built in, needing no loading).
 */
export function packagesOf(kernelPackage: string): string[] {
  const m = /^linux-binary-(.+)$/.exec(kernelPackage);
  return m ? [kernelPackage, `linux-modules-${m[1]}`, `linux-base-${m[1]}`] : [kernelPackage];
}

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

/** The image and modules of an unpacked kernel package at `tree`; a message naming what was looked for, when none is there. */
export function findKernelFiles(tree: string): KernelFiles | string {
  // /boot/vmlinuz-RELEASE, modules under (usr/)lib/modules/RELEASE.
  for (const f of list(join(tree, 'boot'))
    .filter((f) => f.startsWith('vmlinuz-'))
    .sort()) {
    const release = f.slice('vmlinuz-'.length);
    const modulesDir = MODULE_ROOTS.map((r) => join(tree, r, release)).find((d) => existsSync(d));
    if (modulesDir) return { release, image: join(tree, 'boot', f), modulesDir, layout: '/boot/vmlinuz-RELEASE' };
  }
  // (usr/)lib/modules/RELEASE/vmlinuz: the image beside its modules.
  for (const root of MODULE_ROOTS) {
    for (const release of list(join(tree, root)).sort()) {
      const image = join(tree, root, release, 'vmlinuz');
      if (existsSync(image)) return { release, image, modulesDir: join(tree, root, release), layout: `/${root}/RELEASE/vmlinuz` };
    }
  }
  return (
    `no kernel image with its modules in ${tree}: looked for /boot/vmlinuz-RELEASE with /lib/modules/RELEASE or ` +
    `/usr/lib/modules/RELEASE, and for /lib/modules/RELEASE/vmlinuz or /usr/lib/modules/RELEASE/vmlinuz`
  );
}
