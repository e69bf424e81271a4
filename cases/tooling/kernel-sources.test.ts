/**
 * Where `npm run kernels` gets a kernel besides its Debian versions, over
 * synthetic inputs only (no download, no boot): the config check that names
 * a missing piece before booting, the config found in an image (IKCONFIG,
 * plain and inside a compressed payload), the release in a bzImage header,
 * kernels.json entries, --modules directories, the metapackage walk, and
 * the column label that says what was booted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nextKernelPackage, packagesInSuite } from '../../helpers/kernels/apt.js';
import { NEEDED_MODULES } from '../../helpers/kernels/initramfs.js';
import {
  bzImagePayload,
  bzImageRelease,
  checkKernelConfig,
  configCandidates,
  configHash,
  extractIkconfig,
  findKernelConfig,
  parseKernelConfig,
  REQUIREMENTS,
  requirementsFor,
} from '../../helpers/kernels/kconfig.js';
import { MACHINES } from '../../helpers/kernels/machine.js';
import {
  builtinOnlyModulesDir,
  columnLabel,
  modulesDirOf,
  parseKernelEntry,
  parseKernelsFile,
  sourcesFromOptions,
  suitesOf,
} from '../../helpers/kernels/sources.js';

let work: DirectoryResult;
beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-ksrc-' });
});
afterAll(() => work?.cleanup());

/** A .config with every requirement of every machine set to `value`, then the overrides (undefined: "is not set"). */
function config(value: 'y' | 'm', overrides: Record<string, string | undefined> = {}): string {
  const opts: Record<string, string | undefined> = Object.fromEntries(
    Object.values(MACHINES).flatMap((m) => requirementsFor(m).flatMap((r) => r.anyOf.map((o) => [o, value]))),
  );
  Object.assign(opts, overrides);
  return [
    '#',
    '# Linux/x86 6.1.0 Kernel Configuration',
    '#',
    ...Object.entries(opts).map(([k, v]) => (v === undefined ? `# CONFIG_${k} is not set` : `CONFIG_${k}=${v}`)),
    'CONFIG_LOCALVERSION="-test"',
    '',
  ].join('\n');
}

describe('the config check', () => {
  test('parses y, m, values and quoted strings; "is not set" is absent', () => {
    const c = parseKernelConfig('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=0x10\nCONFIG_E="a b"\n');
    expect([...c]).toEqual([
      ['A', 'y'],
      ['B', 'm'],
      ['D', '0x10'],
      ['E', 'a b'],
    ]);
  });

  test('a kernel with everything built in passes, with or without modules', () => {
    for (const mods of [false, true])
      expect(checkKernelConfig(parseKernelConfig(config('y')), mods)).toEqual({ missing: [], bootLine: undefined, suiteLine: undefined });
  });

  test('modules (=m) pass only when a modules directory goes with the image', () => {
    expect(checkKernelConfig(parseKernelConfig(config('m')), true).missing).toEqual([]);
    const without = checkKernelConfig(parseKernelConfig(config('y', { '9P_FS': 'm', OVERLAY_FS: 'm' })), false);
    expect(without.bootLine).toBe(
      'CONFIG_9P_FS =m but no modules were given (--modules DIR) (mount -t 9p of the host root and the results share); ' +
        'CONFIG_OVERLAY_FS =m but no modules were given (--modules DIR) (the writable view of the host root (mount -t overlay))',
    );
    expect(without.suiteLine).toBeUndefined();
  });

  test.for([
    { off: 'NET_9P_VIRTIO', level: 'boot' },
    { off: 'VIRTIO_PCI', level: 'boot' },
    { off: 'TMPFS', level: 'boot' },
    { off: 'BLK_DEV_INITRD', level: 'boot' },
    { off: 'PID_NS', level: 'suite' },
    { off: 'USER_NS', level: 'suite' },
  ] as const)('CONFIG_$off unset is named, in the $level line only', ({ off, level }) => {
    const check = checkKernelConfig(parseKernelConfig(config('y', { [off]: undefined })), true);
    expect(check.missing.map((m) => m.req.anyOf)).toEqual([[off]]);
    const line = level === 'boot' ? check.bootLine : check.suiteLine;
    expect(line).toMatch(new RegExp(`^CONFIG_${off} not set \\(.+\\)$`));
    expect(level === 'boot' ? check.suiteLine : check.bootLine).toBeUndefined();
  });

  test('every module /init loads is covered by a requirement', () => {
    for (const m of NEEDED_MODULES) expect(REQUIREMENTS.some((r) => r.module === m)).toBe(true);
  });
});

describe('finding the config', () => {
  test('IKCONFIG in an uncompressed image, and inside a gzip payload as in a bzImage', () => {
    const text = config('y');
    const vmlinux = Buffer.concat([Buffer.alloc(4096, 7), Buffer.from('IKCFG_ST'), gzipSync(text), Buffer.from('IKCFG_ED'), Buffer.alloc(100, 1)]);
    expect(extractIkconfig(vmlinux)).toBe(text);
    // A bzImage: setup code, then the compressed vmlinux, then trailing data.
    const bz = Buffer.concat([Buffer.alloc(2048, 0x90), gzipSync(vmlinux), Buffer.alloc(512, 3)]);
    expect(extractIkconfig(bz)).toBe(text);
    expect(extractIkconfig(Buffer.concat([Buffer.alloc(2048, 0x90), gzipSync(Buffer.alloc(4096, 5))]))).toBeUndefined();
  });

  test('beside the image first (config-RELEASE, 7.x config, a build tree .config), then embedded', () => {
    const boot = join(work.path, 'tree', 'boot');
    mkdirSync(boot, { recursive: true });
    const image = join(boot, 'vmlinuz-6.1.0-9-cloud-amd64');
    writeFileSync(image, Buffer.concat([Buffer.from('IKCFG_ST'), gzipSync('CONFIG_EMBEDDED=y\n'), Buffer.from('IKCFG_ED')]));
    expect(configCandidates(image, undefined, undefined).slice(0, 2)).toEqual([join(boot, 'config-6.1.0-9-cloud-amd64'), join(boot, 'config')]);
    expect(configCandidates('/src/linux/arch/x86/boot/bzImage', '6.13.0', '/m')).toEqual([
      '/src/linux/arch/x86/boot/config-6.13.0',
      '/src/linux/arch/x86/boot/config',
      '/m/config',
      '/src/linux/arch/x86/boot/.config',
      '/src/linux/.config',
    ]);
    const embedded = findKernelConfig({ image });
    expect(embedded).toEqual({ text: 'CONFIG_EMBEDDED=y\n', from: `embedded in ${image} (IKCONFIG)`, hash: configHash('CONFIG_EMBEDDED=y\n') });
    writeFileSync(join(boot, 'config-6.1.0-9-cloud-amd64'), 'CONFIG_BESIDE=y\n');
    expect(findKernelConfig({ image })?.from).toBe(join(boot, 'config-6.1.0-9-cloud-amd64'));
    const explicit = join(work.path, 'my.config');
    writeFileSync(explicit, 'CONFIG_MINE=y\n');
    expect(findKernelConfig({ image, explicit })).toMatchObject({ from: explicit, text: 'CONFIG_MINE=y\n' });
    expect(configHash('CONFIG_MINE=y\n')).toMatch(/^[0-9a-f]{12}$/);
  });

  test('IKCONFIG in the payload a bzImage header locates (protocol 2.08+), with a stray gzip magic before it', () => {
    const text = 'CONFIG_IKCONFIG=y\nCONFIG_9P_FS=y\n';
    const vmlinux = Buffer.concat([Buffer.alloc(300, 1), Buffer.from('IKCFG_ST'), gzipSync(text), Buffer.from('IKCFG_ED')]);
    const payload = gzipSync(vmlinux);
    const setupSects = 1; // the protected-mode code starts at (1 + 1) * 512
    const offset = 64;
    const img = Buffer.alloc(1024 + offset + payload.length + 256);
    img[0x1f1] = setupSects;
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x020f, 0x206);
    img.writeUInt32LE(offset, 0x248);
    img.writeUInt32LE(payload.length, 0x24c);
    Buffer.from([0x1f, 0x8b, 0x08, 0, 0]).copy(img, 1024); // a stray gzip magic, not the payload
    payload.copy(img, 1024 + offset);
    expect(bzImagePayload(img)?.equals(payload)).toBe(true);
    expect(extractIkconfig(img)).toBe(text);
    expect(bzImagePayload(Buffer.alloc(0x300))).toBeUndefined();
  });

  // The compressions Debian's kernels use (xz up to 6.1, zstd since), through the same tools initramfs.ts needs.
  test.for([
    { tool: 'xz', args: ['-zc', '--check=crc32'] },
    { tool: 'zstd', args: ['-qc'] },
  ])('IKCONFIG in a $tool payload', ({ tool, args }) => {
    const text = `CONFIG_${tool.toUpperCase()}=y\n`;
    const vmlinux = Buffer.concat([Buffer.alloc(5000, 2), Buffer.from('IKCFG_ST'), gzipSync(text), Buffer.from('IKCFG_ED'), Buffer.alloc(100)]);
    const packed = spawnSync(tool, args, { input: vmlinux });
    if (packed.error) throw new Error(`${tool} is needed by npm run kernels and by this test: ${packed.error.message}`);
    expect(extractIkconfig(Buffer.concat([Buffer.alloc(1500, 0x90), packed.stdout, Buffer.alloc(64, 9)]))).toBe(text);
  });

  test('the release in a bzImage setup header; none in something else', () => {
    const img = Buffer.alloc(0x1000);
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x0c00 - 0x200, 0x20e);
    img.write('6.13.0-rc1-dirty (me@box) #3 SMP PREEMPT_DYNAMIC\0', 0x0c00, 'latin1');
    expect(bzImageRelease(img)).toBe('6.13.0-rc1-dirty');
    expect(bzImageRelease(Buffer.alloc(0x1000))).toBeUndefined();
  });
});

describe('kernels.json entries and command-line sources', () => {
  test.for([
    { raw: { version: '6.1', suite: 'bookworm' }, want: { kind: 'version', name: '6.1', version: '6.1', suite: 'bookworm' } },
    {
      raw: { package: 'linux-image-rt-amd64', suite: 'trixie' },
      want: { kind: 'package', name: 'linux-image-rt-amd64', package: 'linux-image-rt-amd64', suite: 'trixie' },
    },
    {
      raw: { deb: 'debs/linux-image-6.1.0-9-amd64_6.1.27-1_amd64.deb' },
      want: { kind: 'deb', name: 'linux-image-6.1.0-9-amd64', deb: '/repo/debs/linux-image-6.1.0-9-amd64_6.1.27-1_amd64.deb' },
    },
    {
      raw: { image: 'build/bzImage', modules: '/abs/mods', name: 'mine', note: 'ours' },
      want: { kind: 'image', name: 'mine', image: '/repo/build/bzImage', modules: '/abs/mods', note: 'ours' },
    },
  ])('$raw', ({ raw, want }) => {
    expect(parseKernelEntry(raw, '/repo', 'kernels.json kernels[0]')).toEqual(want);
  });

  test.for([
    { raw: { suite: 'bookworm' }, says: 'names exactly one of "version" (with "suite"), "package", "deb" or "image"; this one has none' },
    { raw: { version: '6.1', image: 'x' }, says: 'this one has version and image' },
    { raw: { version: '6.1' }, says: 'a "version" entry needs the Debian "suite" that ships it' },
    { raw: { deb: 'x.deb', suite: 'sid' }, says: 'a "deb" entry takes deb, name, note, arch; not suite' },
    { raw: { image: 7 }, says: '"image" must be a non-empty string, got 7' },
    { raw: 'linux', says: 'an entry must be an object, got "linux"' },
  ])('rejects $raw', ({ raw, says }) => {
    expect(() => parseKernelEntry(raw, '/repo', 'kernels.json kernels[0]')).toThrow(says);
  });

  test('the file: the project kernels.json parses; names are distinct and the default names only entries', () => {
    const file = join(__dirname, '../../kernels.json');
    const k = parseKernelsFile(readFileSync(file, 'utf8'), file);
    expect(k.default.every((d) => k.kernels.some((e) => e.name === d))).toBe(true);
    const two = JSON.stringify({ kernels: [{ package: 'a' }, { package: 'a' }] });
    expect(() => parseKernelsFile(two, 'k.json')).toThrow('k.json: two entries are named a; give one a "name"');
    const badDefault = JSON.stringify({ default: ['7'], kernels: [{ version: '6.1', suite: 'bookworm' }] });
    expect(() => parseKernelsFile(badDefault, 'k.json')).toThrow('"default" must list entry names (6.1), got ["7"]');
  });

  test('options: --modules/--config need --kernel-image, --suite needs --kernel-package; suites to update', () => {
    expect(() => sourcesFromOptions({ packages: [], debs: [], modules: '/m' })).toThrow('--modules and --config go with --kernel-image');
    expect(() => sourcesFromOptions({ packages: [], debs: [], suite: 'sid' })).toThrow('--suite goes with --kernel-package');
    const s = sourcesFromOptions({
      packages: ['linux-image-cloud-amd64'],
      suite: 'bookworm',
      debs: ['/d/linux-image-x_1_amd64.deb'],
      image: '/b/bzImage',
      config: '/b/.config',
    });
    expect(s.map((x) => x.name)).toEqual(['linux-image-cloud-amd64', 'linux-image-x', 'image:bzImage']);
    expect(suitesOf(s, ['bullseye'])).toEqual(['bookworm']);
    expect(suitesOf(sourcesFromOptions({ packages: ['p'], debs: [] }), ['bullseye', 'sid'])).toEqual(['bullseye', 'sid']);
  });

  test('metapackages are followed to the package holding the kernel', () => {
    const dep = (...names: string[]) => `pkg\n${names.map((n) => `  Depends: ${n}`).join('\n')}\n`;
    expect(nextKernelPackage('linux-image-cloud-amd64', dep('linux-image-6.1.0-28-cloud-amd64'))).toBe('linux-image-6.1.0-28-cloud-amd64');
    expect(nextKernelPackage('linux-image-6.1.0-28-cloud-amd64', dep('kmod', 'linux-base', 'initramfs-tools'))).toBeUndefined();
    expect(nextKernelPackage('linux-image-7.2.13+deb14-amd64', dep('linux-binary-7.2.13+deb14-amd64'))).toBe('linux-binary-7.2.13+deb14-amd64');
    expect(nextKernelPackage('linux-binary-7.2.13+deb14-amd64', dep('linux-modules-7.2.13+deb14-amd64', 'linux-base-7.2.13+deb14-amd64'))).toBeUndefined();
  });
});

test('a version is taken only from the suite it was asked of (one apt-cache madison for every candidate)', () => {
  const madison = [
    'linux-image-6.1.0-50-amd64 |   6.1.176-1 | http://deb.debian.org/debian bookworm/main amd64 Packages',
    'linux-image-6.12.117+deb13-amd64 | 6.12.117-1 | http://deb.debian.org/debian trixie/main amd64 Packages',
    'linux-image-6.12.117+deb13-amd64 | 6.12.117-1~bpo12+1 | http://deb.debian.org/debian bookworm-backports/main amd64 Packages',
  ].join('\n');
  expect([...packagesInSuite(madison, 'bookworm')]).toEqual(['linux-image-6.1.0-50-amd64']);
  expect([...packagesInSuite(madison, 'trixie')]).toEqual(['linux-image-6.12.117+deb13-amd64']);
  expect([...packagesInSuite(madison, 'sid')]).toEqual([]);
  expect([...packagesInSuite('', 'bookworm')]).toEqual([]);
});

describe('modules and column labels', () => {
  test('--modules: the release directory, or an INSTALL_MOD_PATH root holding it', () => {
    const root = join(work.path, 'modroot');
    for (const r of ['6.13.0', '6.12.0']) mkdirSync(join(root, 'lib/modules', r, 'kernel'), { recursive: true });
    expect(modulesDirOf(join(root, 'lib/modules/6.13.0'), undefined)).toBe(join(root, 'lib/modules/6.13.0'));
    expect(modulesDirOf(root, '6.13.0')).toBe(join(root, 'lib/modules/6.13.0'));
    expect(() => modulesDirOf(root, '6.14.0')).toThrow(`--modules ${root}: holds modules for 6.12.0, 6.13.0; none is the image's release 6.14.0`);
    expect(() => modulesDirOf(work.path, undefined)).toThrow('no kernel/ or modules.builtin in it');
  });

  test('an image with everything built in gets a modules.builtin naming what /init would load', () => {
    const d = builtinOnlyModulesDir(join(work.path, 'none'));
    expect(readFileSync(join(d, 'modules.builtin'), 'utf8').trim().split('\n')).toEqual(NEEDED_MODULES.map((m) => `kernel/${m}.ko`));
  });

  test('a column names what was booted, its uname -r and config hash', () => {
    const k = {
      booted: 'linux-image-6.1.0-28-cloud-amd64 6.1.119-1 (bookworm)',
      release: '6.1.0-28-cloud-amd64',
      config: { text: '', from: '/x', hash: 'abcdef012345' },
    };
    expect(columnLabel('linux-image-cloud-amd64', k, '6.1.0-28-cloud-amd64')).toBe(
      'linux-image-cloud-amd64: linux-image-6.1.0-28-cloud-amd64 6.1.119-1 (bookworm); uname -r 6.1.0-28-cloud-amd64; config abcdef012345',
    );
    expect(columnLabel('image:bzImage', { booted: 'image /src/bzImage' })).toBe('image:bzImage: image /src/bzImage');
  });
});
