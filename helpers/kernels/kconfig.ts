/**
 * What a kernel must have to run the suite in a guest, checked from its
 * build configuration (the `.config` Kconfig wrote) before it is booted, so
 * that a missing piece is named in one line instead of showing up as a guest
 * that never mounts its root.
 *
 * The configuration is found beside the image (Debian's /boot/config-RELEASE,
 * 7.x's /usr/lib/modules/RELEASE/config, a build tree's .config), given with
 * --config, or read out of the image itself when it was built with
 * CONFIG_IKCONFIG (kernel/configs.c embeds the gzipped .config between the
 * markers IKCFG_ST and IKCFG_ED; in a bzImage that vmlinux is itself
 * compressed, so the payload is unpacked first).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { NEEDED_MODULES } from './initramfs.js';
import { MACHINES, type GuestArch, type Machine } from './machine.js';

/** CONFIG_X -> 'y' | 'm' | a value; options "is not set" are absent. */
export type KernelConfig = Map<string, string>;

export function parseKernelConfig(text: string): KernelConfig {
  const out: KernelConfig = new Map();
  for (const line of text.split('\n')) {
    const m = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/**
 * One requirement: any of `anyOf` set to y (or m, when modules are given).
 * `boot`: without it the guest cannot start the suite (its /init, in
 * initramfs.ts, fails and powers off): the kernel is not booted. `suite`: the
 * guest runs, but the claims that need it cannot hold: named, then booted.
 * `module`: the name initramfs.ts loads (NEEDED_MODULES) when it is =m.
 */
export interface Requirement {
  anyOf: string[];
  level: 'boot' | 'suite';
  why: string;
  module?: string;
}

export const REQUIREMENTS: Requirement[] = [
  { anyOf: ['BLK_DEV_INITRD'], level: 'boot', why: 'the guest starts from an initramfs' },
  { anyOf: ['PCI'], level: 'boot', why: "the 9p shares are virtio PCI devices (on x86_64's q35 and arm64's virt machine alike)" },
  { anyOf: ['VIRTIO_PCI'], level: 'boot', why: 'the virtio transport of the 9p shares', module: 'virtio_pci' },
  { anyOf: ['NET_9P'], level: 'boot', why: 'the project and the results reach the guest over 9p (Documentation/filesystems/9p.rst)', module: '9pnet' },
  { anyOf: ['NET_9P_VIRTIO'], level: 'boot', why: '9p over virtio (trans=virtio)', module: '9pnet_virtio' },
  { anyOf: ['9P_FS'], level: 'boot', why: 'mount -t 9p of the host root and the results share', module: '9p' },
  { anyOf: ['TMPFS'], level: 'boot', why: 'the writable upper layer over the read-only host root, and the hidden host paths' },
  { anyOf: ['OVERLAY_FS'], level: 'boot', why: 'the writable view of the host root (mount -t overlay)', module: 'overlay' },
  { anyOf: ['DEVTMPFS'], level: 'boot', why: '/init mounts devtmpfs on /dev (node needs /dev/null)' },
  { anyOf: ['PROC_FS'], level: 'boot', why: 'the suite reads /proc' },
  { anyOf: ['SYSFS'], level: 'boot', why: '/init mounts sysfs' },
  { anyOf: ['FUTEX'], level: 'boot', why: 'node and every threaded probe use futexes (futex(2))' },
  { anyOf: ['EPOLL'], level: 'boot', why: "node's event loop (libuv) uses epoll(7)" },
  { anyOf: ['EVENTFD'], level: 'boot', why: 'libuv wakes its loop with eventfd(2)' },
  { anyOf: ['NAMESPACES'], level: 'suite', why: 'the namespaces and clone claims create namespaces' },
  { anyOf: ['PID_NS'], level: 'suite', why: 'CLONE_NEWPID (pid_namespaces(7))' },
  { anyOf: ['USER_NS'], level: 'suite', why: 'CLONE_NEWUSER, which lets an unprivileged probe create the others (user_namespaces(7))' },
  { anyOf: ['UTS_NS'], level: 'suite', why: 'CLONE_NEWUTS in the clone flag table' },
  { anyOf: ['IPC_NS'], level: 'suite', why: 'CLONE_NEWIPC in the clone flag table' },
  { anyOf: ['NET_NS'], level: 'suite', why: 'CLONE_NEWNET in the clone flag table' },
  { anyOf: ['CGROUPS'], level: 'suite', why: 'CLONE_NEWCGROUP in the clone flag table' },
];

/** The requirements of a guest of this machine: the common ones and its serial console's driver (machine.ts consoleConfig). */
export function requirementsFor(m: Machine): Requirement[] {
  return [...REQUIREMENTS, { anyOf: [m.consoleConfig], level: 'suite', why: `console=${m.console}: without it a broken guest leaves no console log` }];
}

// Every module /init loads has its requirement here: one list cannot drift from the other unseen.
for (const m of NEEDED_MODULES)
  if (!REQUIREMENTS.some((r) => r.module === m)) throw new Error(`kconfig.ts: NEEDED_MODULES has ${m}, which no requirement names`);

export interface ConfigCheck {
  /** Requirements not met, each with what is wrong ("not set" or "=m but no modules were given"). */
  missing: { req: Requirement; what: string }[];
  /** One line naming the boot-level pieces missing, or undefined when the guest can start. */
  bootLine?: string;
  /** One line naming the suite-level pieces missing. */
  suiteLine?: string;
}

/** Check a configuration for a guest of machine `m` (default x86_64); `haveModules` says whether a modules directory goes with the image. */
export function checkKernelConfig(config: KernelConfig, haveModules: boolean, m: Machine = MACHINES.x86_64): ConfigCheck {
  const missing: ConfigCheck['missing'] = [];
  for (const req of requirementsFor(m)) {
    const values = req.anyOf.map((o) => config.get(o));
    if (values.includes('y')) continue;
    if (values.includes('m') && haveModules) continue;
    const what = values.includes('m') ? '=m but no modules were given (--modules DIR)' : 'not set';
    missing.push({ req, what });
  }
  const line = (level: Requirement['level']) => {
    const ms = missing.filter((m) => m.req.level === level);
    return ms.length ? ms.map((m) => `CONFIG_${m.req.anyOf.join('|CONFIG_')} ${m.what} (${m.req.why})`).join('; ') : undefined;
  };
  return { missing, bootLine: line('boot'), suiteLine: line('suite') };
}

/** A short, stable name for a configuration: the first 12 hex digits of its SHA-256. */
export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Compressions a bzImage payload may use (arch/x86/boot/compressed), by magic, with how to unpack them. */
const PAYLOADS: { name: string; magic: Buffer; cmd?: string[] }[] = [
  { name: 'gzip', magic: Buffer.from([0x1f, 0x8b, 0x08]) },
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), cmd: ['xz', '-dcq'] },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), cmd: ['zstd', '-dcq'] },
  { name: 'lzma', magic: Buffer.from([0x5d, 0x00, 0x00]), cmd: ['xz', '--format=lzma', '-dcq'] },
  { name: 'bzip2', magic: Buffer.from('BZh'), cmd: ['bzip2', '-dcq'] },
  { name: 'lz4', magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), cmd: ['lz4', '-dcq'] },
];

const ST = Buffer.from('IKCFG_ST');
const ED = Buffer.from('IKCFG_ED');

/** The embedded configuration of an uncompressed vmlinux, if it has one. */
function ikconfigOf(vmlinux: Buffer): string | undefined {
  const st = vmlinux.indexOf(ST);
  if (st < 0) return undefined;
  const ed = vmlinux.indexOf(ED, st);
  return gunzipLeading(vmlinux.subarray(st + ST.length, ed < 0 ? undefined : ed))?.toString();
}

/**
 * The first gzip member of `data`, ignoring what follows it (zlib's gunzip
 * rejects trailing bytes that are not another member, and a bzImage has
 * them): the header (RFC 1952 section 2.3) is skipped by hand and the
 * deflate stream inflated raw, which stops at its end.
 */
export function gunzipLeading(data: Buffer): Buffer | undefined {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b || data[2] !== 8) return undefined;
  const flags = data[3]!;
  let at = 10;
  if (flags & 4) at += 2 + data.readUInt16LE(at); // FEXTRA
  if (flags & 8) at = data.indexOf(0, at) + 1; // FNAME
  if (flags & 16) at = data.indexOf(0, at) + 1; // FCOMMENT
  if (flags & 2) at += 2; // FHCRC
  try {
    return inflateRawSync(data.subarray(at));
  } catch {
    return undefined;
  }
}

/** Decompress from `at` to the end; trailing data after the stream is expected, so errors after output are ignored. */
function unpackFrom(image: Buffer, at: number, p: (typeof PAYLOADS)[number]): Buffer | undefined {
  const data = image.subarray(at);
  if (!p.cmd) return gunzipLeading(data);
  // spawnSync, not execa: execa gathers a 60 MB stdout in about 10 s, spawnSync in a fraction of one.
  const r = spawnSync(p.cmd[0]!, p.cmd.slice(1), { input: data, maxBuffer: 1 << 30 });
  // A trailing size field or padding makes the tool complain after it wrote the whole vmlinux: keep the output.
  return r.stdout?.length ? r.stdout : undefined; // nothing: not this format, or the tool is not installed
}

/**
 * The compressed vmlinux inside a bzImage, from its setup header
 * (Documentation/arch/x86/boot.rst, protocol 2.08+): the protected-mode code
 * starts after (setup_sects + 1) sectors (setup_sects 0 meaning 4), and
 * payload_offset/payload_length locate the payload in it.
 */
export function bzImagePayload(image: Buffer): Buffer | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS' || image.readUInt16LE(0x206) < 0x208) return undefined;
  const start = ((image[0x1f1] || 4) + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  return length && start + length <= image.length ? image.subarray(start, start + length) : undefined;
}

/** How many places a magic is tried at, when the image is not a bzImage: each try of xz or zstd is a process. */
const SCAN_LIMIT = 8;

/**
 * The configuration embedded in a kernel image (CONFIG_IKCONFIG), found as
 * scripts/extract-ikconfig does: in the image as is, else in its compressed
 * vmlinux: the bzImage payload when the header names it, else at the first
 * places each compression's magic appears.
 */
export function extractIkconfig(image: Buffer): string | undefined {
  const direct = ikconfigOf(image);
  if (direct) return direct;
  const payload = bzImagePayload(image);
  for (const p of PAYLOADS) {
    const starts: number[] = [];
    if (payload) {
      if (payload.subarray(0, p.magic.length).equals(p.magic)) starts.push(0);
    } else for (let at = image.indexOf(p.magic); at >= 0 && starts.length < SCAN_LIMIT; at = image.indexOf(p.magic, at + 1)) starts.push(at);
    for (const at of starts) {
      const vmlinux = unpackFrom(payload ?? image, at, p);
      const found = vmlinux && ikconfigOf(vmlinux);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The kernel release a bzImage names in its setup header (Documentation/arch/x86/boot.rst):
 * "HdrS" at 0x202, protocol >= 2.00, kernel_version at 0x20e pointing (minus 0x200) at
 * "RELEASE (builder) #1 ...".
 */
export function bzImageRelease(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const ptr = image.readUInt16LE(0x20e);
  if (!ptr) return undefined;
  const at = ptr + 0x200;
  const end = image.indexOf(0, at);
  if (at >= image.length || end < 0) return undefined;
  return image.toString('latin1', at, end).split(' ')[0] || undefined;
}

/**
 * The architecture an image is for, from its header: an x86 bzImage says
 * "HdrS" at 0x202 (Documentation/arch/x86/boot.rst); an arm64 Image says
 * "ARM\x64" at 0x38 (Documentation/arch/arm64/booting.rst). undefined for
 * anything else (an EFI zboot image, a vmlinux ELF).
 */
export function imageArch(image: Buffer): GuestArch | undefined {
  if (image.length >= 0x206 && image.toString('latin1', 0x202, 0x206) === 'HdrS') return 'x86_64';
  if (image.length >= 0x3c && image.toString('latin1', 0x38, 0x3c) === 'ARM\x64') return 'arm64';
  return undefined;
}

/**
 * The release an image is of: the bzImage header's, else (an arm64 Image's
 * header carries no version string) the file's name, vmlinuz-RELEASE or
 * Image-RELEASE as Debian's /boot and `make install` name it.
 */
export function imageRelease(image: Buffer, path: string): string | undefined {
  return bzImageRelease(image) ?? /^(?:vmlinuz|bzImage|Image|vmlinux)-(.+)$/.exec(basename(path))?.[1];
}

/** Where a configuration may lie beside an image, most specific first. */
export function configCandidates(imagePath: string, release: string | undefined, modulesDir: string | undefined): string[] {
  const dir = dirname(imagePath);
  const out: string[] = [];
  if (release) out.push(join(dir, `config-${release}`));
  // vmlinuz-RELEASE -> config-RELEASE, beside it (Debian's /boot).
  const m = /^(?:vmlinuz|bzImage|vmlinux)-(.+)$/.exec(basename(imagePath));
  if (m) out.push(join(dir, `config-${m[1]}`));
  // 7.x: /usr/lib/modules/RELEASE/{vmlinuz,config}; an installed modules dir of a build may carry one too.
  out.push(join(dir, 'config'));
  if (modulesDir) out.push(join(modulesDir, 'config'));
  // A build tree: arch/x86/boot/bzImage -> .config at the top; or .config beside the image.
  out.push(join(dir, '.config'), join(dir, '..', '..', '..', '.config'));
  return [...new Set(out)];
}

export interface FoundConfig {
  text: string;
  /** Where it came from: a path, or "embedded in IMAGE (IKCONFIG)". */
  from: string;
  hash: string;
}

/** The configuration of this image: `explicit` when given, else beside it, else embedded in it. */
export function findKernelConfig(opts: { image: string; release?: string; modulesDir?: string; explicit?: string }): FoundConfig | undefined {
  const read = (p: string): FoundConfig => {
    const text = readFileSync(p, 'utf8');
    return { text, from: p, hash: configHash(text) };
  };
  if (opts.explicit) return read(opts.explicit);
  const beside = configCandidates(opts.image, opts.release, opts.modulesDir).find((p) => existsSync(p));
  if (beside) return read(beside);
  const embedded = extractIkconfig(readFileSync(opts.image));
  return embedded ? { text: embedded, from: `embedded in ${opts.image} (IKCONFIG)`, hash: configHash(embedded) } : undefined;
}
