/**
 * A small initramfs for a Debian kernel package: busybox, the modules the
 * guest needs for its 9p root and overlay (with their dependencies, read
 * from each module's .modinfo since no package ships modules.dep), and an
 * init script. Written as a newc cpio archive here: no cpio binary needed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { stampCommand } from './breakdown.js';

/** What the guest must load: PCI virtio transport, 9p over virtio, overlayfs. */
export const NEEDED_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

interface Entry {
  name: string;
  mode: number;
  data: Buffer;
}

/** newc format (the kernel's initramfs format, Documentation/driver-api/early-userspace/buffer-format.rst). */
export function cpioNewc(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0, data: Buffer.alloc(0) }]) {
    const name = Buffer.from(`${e.name}\0`);
    const fields = [ino++, e.mode, 0, 0, e.mode & 0o040000 ? 2 : 1, 0, e.data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`);
    parts.push(header, name, pad4(header.length + name.length), e.data, pad4(e.data.length));
  }
  return Buffer.concat(parts);
}

/** A module file's contents, decompressed (.ko, .ko.xz from 6.12, .ko.zst). */
async function readModule(path: string): Promise<Buffer> {
  // execa's 'buffer' encoding gives a Uint8Array: make it a Buffer, whose indexOf takes a string.
  if (path.endsWith('.xz')) return Buffer.from((await execa('xz', ['-dc', path], { encoding: 'buffer' })).stdout);
  if (path.endsWith('.zst')) return Buffer.from((await execa('zstd', ['-dc', path], { encoding: 'buffer' })).stdout);
  return readFileSync(path);
}

/** "depends=a,b" from the .modinfo strings of a module. */
function dependsOf(ko: Buffer): string[] {
  const at = ko.indexOf('depends=');
  if (at < 0) return [];
  const end = ko.indexOf(0, at);
  const list = ko.subarray(at + 'depends='.length, end).toString();
  return list ? list.split(',') : [];
}

function indexModules(modulesDir: string): Map<string, string> {
  const byName = new Map<string, string>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const m = f.match(/^(.+)\.ko(\.xz|\.zst)?$/);
        if (m) byName.set(m[1]!.replace(/-/g, '_'), p);
      }
    }
  };
  walk(join(modulesDir, 'kernel'));
  return byName;
}

/** Modules to load, dependencies first; built-in ones (modules.builtin) are skipped. */
export async function resolveModules(modulesDir: string, wanted = NEEDED_MODULES): Promise<{ name: string; data: Buffer }[]> {
  const files = indexModules(modulesDir);
  const builtinFile = join(modulesDir, 'modules.builtin');
  const builtin = new Set(
    existsSync(builtinFile)
      ? readFileSync(builtinFile, 'utf8')
          .split('\n')
          .map((l) => l.replace(/^.*\//, '').replace(/\.ko$/, '').replace(/-/g, '_'))
      : [],
  );
  const order: { name: string; data: Buffer }[] = [];
  const seen = new Set<string>();
  const visit = async (raw: string) => {
    const name = raw.replace(/-/g, '_');
    if (seen.has(name)) return;
    seen.add(name);
    const path = files.get(name);
    if (!path) {
      if (builtin.has(name)) return;
      throw new Error(`module ${name} is neither in ${modulesDir} nor built in`);
    }
    const data = await readModule(path);
    for (const d of dependsOf(data)) await visit(d);
    order.push({ name, data });
  };
  for (const w of wanted) await visit(w);
  return order;
}

/**
 * One read-only 9p share the guest lays a writable tmpfs layer over and
 * mounts at `at` in its root. The share tagged `root` is the guest's `/`
 * (the host's own root for an x86_64 guest; the cached arm64 userspace,
 * helpers/kernels/userspace.ts, for an arm64 one); the others are mounted on
 * top of it in order (the project, its node_modules). `above` names shares
 * laid over this one, first on top (overlayfs' lowerdir order,
 * Documentation/filesystems/overlayfs.rst): the arm64 native bindings over
 * the project's node_modules, so the guest finds both the JavaScript of every
 * package and the binding for its CPU without the host's tree being written.
 */
export interface GuestShare {
  tag: string;
  /** Where it appears in the guest's root (`/` for the root share). */
  at: string;
  /** Tags of shares laid over it, the topmost first. */
  above?: string[];
}

/** The 9p options of every share (msize: larger messages, fewer round trips for node's many reads). */
const NINEP = 'trans=virtio,version=9p2000.L,msize=262144';

/** The lines of /init that mount one share (and those above it) as a writable overlay at /root<at>. */
function shareMountLines(s: GuestShare): string[] {
  const tags = [...(s.above ?? []), s.tag];
  const target = s.at === '/' ? '/root' : `/root${s.at}`;
  return [
    ...tags.map(
      (t) =>
        `mkdir -p /mnt/${t} && mount -t 9p -o ${NINEP},ro,cache=loose ${t} /mnt/${t} || { echo "clonelab-guest: cannot mount the ${t} share"; poweroff -f; }`,
    ),
    `mkdir -p /rw/${s.tag}/upper /rw/${s.tag}/work ${shellQuote(target)}`,
    `mount -t overlay overlay -o lowerdir=${tags.map((t) => `/mnt/${t}`).join(':')},upperdir=/rw/${s.tag}/upper,workdir=/rw/${s.tag}/work ${shellQuote(target)} || { echo "clonelab-guest: overlay of ${tags.join(' over ')} failed"; poweroff -f; }`,
  ];
}

/**
 * The guest's /init: load modules, mount the shares (read-only 9p, each under
 * a tmpfs overlay), hide host paths the suite has no business reading, mount
 * the results share, switch_root into it and run the command, then power off.
 */
export function initScript(opts: { modules: string[]; command: string; hide: string[]; hideFiles: string[]; shares?: readonly GuestShare[] }): string {
  const shares = opts.shares ?? HOST_ROOT_SHARES;
  if (shares[0]?.at !== '/') throw new Error(`initScript: the first share must be the guest's root (at "/"), got ${JSON.stringify(shares[0])}`);
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
${stampCommand('init', '/bin/busybox')}
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "clonelab-guest: kernel $(uname -r)"
${opts.modules.map((m) => `insmod /modules/${m}.ko || echo "clonelab-guest: insmod ${m} failed"`).join('\n')}
${stampCommand('modules', '/bin/busybox')}
mkdir -p /rw /root
# cache=loose: every share is read-only to the guest and does not change
# during a run, so the guest may keep what it read (pages, attributes,
# directory entries) instead of asking the host again (Documentation/
# filesystems/9p.rst). Node resolves and reads thousands of small files.
mount -t tmpfs -o size=2g tmpfs /rw
${shares.flatMap(shareMountLines).join('\n')}
# Host paths the guest does not need: empty in its view.
${opts.hide.map((d) => `[ -d "/root${d}" ] && mount -t tmpfs -o size=256m,mode=1777 none "/root${d}"`).join('\n')}
${opts.hideFiles.map((f) => `[ -f "/root${f}" ] && mount --bind /dev/null "/root${f}"`).join('\n')}
mkdir -p /root/clonelab-results /root/proc /root/sys /root/dev
mount -t 9p -o ${NINEP} results /root/clonelab-results || { echo "clonelab-guest: cannot mount the results share"; poweroff -f; }
mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
# /tmp stays what the overlay gives (writable, in memory): the project may live under it.
mkdir -p /root/.clonelab && cp /bin/busybox /root/.clonelab/busybox
${stampCommand('mounts', '/bin/busybox')}
echo "clonelab-guest: running"
# switch_root, not chroot: it moves the new root onto / so the suite is not "chrooted",
# which would make CLONE_NEWUSER fail with EPERM (user_namespaces(7)). We stay PID 1.
exec switch_root /root /.clonelab/busybox sh -c ${shellQuote(`${opts.command}; echo "clonelab-guest: finished $?"; sync; /.clonelab/busybox poweroff -f`)}
`;
}

/** A guest of the host's architecture: the host's whole root is its root (project and node included). */
export const HOST_ROOT_SHARES: readonly GuestShare[] = [{ tag: 'root', at: '/' }];

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function buildInitramfs(opts: {
  modulesDir: string;
  command: string;
  hide: string[];
  hideFiles: string[];
  shares?: readonly GuestShare[];
  /** A static busybox of the guest's architecture (default: the host's, for a guest of the host's architecture). */
  busybox?: string;
}): Promise<Buffer> {
  const busybox = opts.busybox ?? ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is not installed (apt-get install busybox-static)');
  if (!existsSync(busybox)) throw new Error(`${busybox}: no such file (the guest's static busybox)`);
  const modules = await resolveModules(opts.modulesDir);
  const dir = (name: string): Entry => ({ name, mode: 0o040755, data: Buffer.alloc(0) });
  return cpioNewc([
    ...['bin', 'dev', 'proc', 'sys', 'modules', 'mnt', 'rw', 'root', 'tmp'].map(dir),
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync(busybox) },
    { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
    ...modules.map((m) => ({ name: `modules/${m.name}.ko`, mode: 0o100644, data: m.data })),
    {
      name: 'init',
      mode: 0o100755,
      data: Buffer.from(
        initScript({ modules: modules.map((m) => m.name), command: opts.command, hide: opts.hide, hideFiles: opts.hideFiles, shares: opts.shares }),
      ),
    },
  ]);
}
