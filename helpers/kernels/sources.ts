/**
 * The kernels `npm run kernels` can boot, and how each becomes an image, a
 * modules directory and a name for its matrix column:
 *
 * - a Debian version in a suite (`{ "version": "6.1", "suite": "bookworm" }`):
 *   the newest generic -amd64 package of that version there;
 * - a Debian package by name, flavours included (`{ "package":
 *   "linux-image-6.1.0-28-cloud-amd64", "suite": "bookworm" }`, or a
 *   metapackage such as linux-image-rt-amd64, followed to the kernel it pulls);
 * - a .deb file (`{ "deb": "debs/linux-image-....deb" }`), with its 7.x
 *   companions (linux-modules-*, linux-base-*) taken from the same directory;
 * - a kernel someone built (`{ "image": "arch/x86/boot/bzImage", "modules":
 *   "DIR", "config": "FILE" }`).
 *
 * kernels.json entries and the command line (--kernel-package, --kernel-deb,
 * --kernel-image) give the same KernelSource; the rest does not care which.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import type { PrivateApt } from './apt.js';
import { NEEDED_MODULES } from './initramfs.js';
import { checkKernelConfig, findKernelConfig, imageArch, imageRelease, parseKernelConfig, type ConfigCheck, type FoundConfig } from './kconfig.js';
import { findKernelFiles, packagesOf } from './layout.js';
import { GUEST_ARCHES, machineFor, MACHINES, UnknownArchError, type GuestArch, type Machine } from './machine.js';

/**
 * `arch`, when given, ties the source to one architecture (a package of
 * another flavour suffix, a .deb or an image is only for its own); without
 * it a "version" entry runs on every architecture the run asks for (--arch),
 * resolved to that architecture's package, and the other kinds on x86_64
 * (a package name ending in -arm64 says arm64 by itself).
 */
export type KernelSource = { name: string; note?: string; arch?: GuestArch } & (
  | { kind: 'version'; version: string; suite: string }
  | { kind: 'package'; package: string; suite?: string }
  | { kind: 'deb'; deb: string }
  | { kind: 'image'; image: string; modules?: string; config?: string }
);

export class KernelSourceError extends Error {
  override name = 'KernelSourceError';
}

const KEYS = { version: ['suite'], package: ['suite'], deb: [], image: ['modules', 'config'] } as const;
const COMMON_KEYS = ['name', 'note', 'arch'];

/**
 * One kernels.json entry, checked: exactly one of version/package/deb/image,
 * only the keys that kind takes, strings everywhere; relative paths are
 * relative to `baseDir` (the file's directory).
 */
export function parseKernelEntry(raw: unknown, baseDir: string, where: string): KernelSource {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new KernelSourceError(`${where}: an entry must be an object, got ${JSON.stringify(raw)}`);
  const e = raw as Record<string, unknown>;
  const kinds = (Object.keys(KEYS) as (keyof typeof KEYS)[]).filter((k) => k in e);
  if (kinds.length !== 1)
    throw new KernelSourceError(
      `${where}: an entry names exactly one of "version" (with "suite"), "package", "deb" or "image"; this one has ${kinds.length ? kinds.join(' and ') : 'none'}: ${JSON.stringify(raw)}`,
    );
  const kind = kinds[0]!;
  const allowed = new Set<string>([kind, ...KEYS[kind], ...COMMON_KEYS]);
  const extra = Object.keys(e).filter((k) => !allowed.has(k));
  if (extra.length) throw new KernelSourceError(`${where}: a "${kind}" entry takes ${[...allowed].join(', ')}; not ${extra.join(', ')}`);
  for (const [k, v] of Object.entries(e))
    if (typeof v !== 'string' || !v) throw new KernelSourceError(`${where}: "${k}" must be a non-empty string, got ${JSON.stringify(v)}`);
  const s = e as Record<string, string | undefined>;
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p));
  let arch: GuestArch | undefined;
  if (s.arch !== undefined) {
    try {
      arch = machineFor(s.arch).arch;
    } catch (e) {
      if (e instanceof UnknownArchError) throw new KernelSourceError(`${where}: "arch": ${e.message}`);
      throw e;
    }
  }
  const note = { ...(s.note !== undefined ? { note: s.note } : {}), ...(arch ? { arch } : {}) };
  switch (kind) {
    case 'version':
      if (!s.suite) throw new KernelSourceError(`${where}: a "version" entry needs the Debian "suite" that ships it`);
      return { kind, name: s.name ?? s.version!, version: s.version!, suite: s.suite, ...note };
    case 'package': {
      const named = packageArch(s.package!);
      if (arch && named && named !== arch) throw new KernelSourceError(`${where}: ${s.package} is an ${named} kernel, not ${arch}`);
      return { kind, name: s.name ?? s.package!, package: s.package!, ...(s.suite ? { suite: s.suite } : {}), ...note };
    }
    case 'deb':
      return { kind, name: s.name ?? basename(s.deb!).replace(/_.*$|\.deb$/, ''), deb: abs(s.deb)!, ...note };
    case 'image': {
      const out: KernelSource = { kind, name: s.name ?? `image:${basename(s.image!)}`, image: abs(s.image)!, ...note };
      if (s.modules) out.modules = abs(s.modules);
      if (s.config) out.config = abs(s.config);
      return out;
    }
  }
}

export interface KernelsFile {
  default: string[];
  kernels: KernelSource[];
}

/** The architecture a Debian kernel package's flavour suffix names (linux-image-…-arm64, linux-image-rt-amd64), if any. */
export function packageArch(pkg: string): GuestArch | undefined {
  return Object.values(MACHINES).find((m) => new RegExp(`-${m.debianArch}$`).test(pkg))?.arch;
}

/** The architectures a source can boot on: its own when tied to one, every one for a version. */
export function archesOf(src: KernelSource): GuestArch[] {
  if (src.arch) return [src.arch];
  if (src.kind === 'version') return [...GUEST_ARCHES];
  return [(src.kind === 'package' && packageArch(src.package)) || 'x86_64'];
}

/** One guest a run boots: a kernel source on one architecture, and the name its directory, progress line and column go by. */
export interface PlannedGuest {
  source: KernelSource;
  machine: Machine;
  /** The source's name, with the architecture added when it is not x86_64 (the default) and the name does not say it. */
  id: string;
}

/**
 * The guests for these sources on these architectures (--arch): each source
 * on each asked architecture it can boot on. A source that can boot on none
 * of them is an error naming it when `named` (the user asked for it), and
 * left out otherwise (a kernels.json default tied to another architecture).
 */
export function planGuests(sources: KernelSource[], arches: GuestArch[], named: (s: KernelSource) => boolean): PlannedGuest[] {
  const out: PlannedGuest[] = [];
  for (const source of sources) {
    const on = archesOf(source).filter((a) => arches.includes(a));
    if (!on.length && named(source))
      throw new KernelSourceError(`${source.name} is an ${archesOf(source).join('/')} kernel; this run boots ${arches.join(' and ')} (--arch)`);
    for (const a of on) {
      const m = MACHINES[a];
      const says = [m.arch, m.debianArch].some((x) => source.name.includes(x));
      out.push({ source, machine: m, id: a === 'x86_64' || says ? source.name : `${source.name}-${a}` });
    }
  }
  return out;
}

/** kernels.json: entries with distinct names, and a default list naming only them. */
export function parseKernelsFile(text: string, file: string): KernelsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KernelSourceError(`${file} is not JSON: ${(e as Error).message}`);
  }
  const j = json as { default?: unknown; kernels?: unknown };
  if (!Array.isArray(j.kernels)) throw new KernelSourceError(`${file}: "kernels" must be a list of entries`);
  const kernels = j.kernels.map((k, i) => parseKernelEntry(k, dirname(file), `${file} kernels[${i}]`));
  const names = kernels.map((k) => k.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new KernelSourceError(`${file}: two entries are named ${dup}; give one a "name"`);
  const def = j.default ?? names;
  if (!Array.isArray(def) || def.some((d) => typeof d !== 'string' || !names.includes(d)))
    throw new KernelSourceError(`${file}: "default" must list entry names (${names.join(', ')}), got ${JSON.stringify(def)}`);
  return { default: def as string[], kernels };
}

/** The sources the command line names besides --kernel: each package, each .deb, the image. */
export function sourcesFromOptions(o: {
  packages: string[];
  suite?: string;
  debs: string[];
  image?: string;
  modules?: string;
  config?: string;
}): KernelSource[] {
  if ((o.modules || o.config) && !o.image) throw new KernelSourceError('--modules and --config go with --kernel-image: they describe that image');
  if (o.suite && !o.packages.length) throw new KernelSourceError('--suite goes with --kernel-package: it says where that package comes from');
  return [
    ...o.packages.map((p): KernelSource => ({ kind: 'package', name: p, package: p, ...(o.suite ? { suite: o.suite } : {}) })),
    ...o.debs.map((d): KernelSource => ({ kind: 'deb', name: basename(d).replace(/_.*$|\.deb$/, ''), deb: d })),
    ...(o.image
      ? [
          {
            kind: 'image',
            name: `image:${basename(o.image)}`,
            image: o.image,
            ...(o.modules ? { modules: o.modules } : {}),
            ...(o.config ? { config: o.config } : {}),
          } as KernelSource,
        ]
      : []),
  ];
}

/** The Debian suites a run must know about: those its sources name, or `fallback` for a package named without one. */
export function suitesOf(sources: KernelSource[], fallback: string[]): string[] {
  const out = new Set<string>();
  for (const s of sources) {
    if (s.kind === 'version') out.add(s.suite);
    if (s.kind === 'package') for (const x of s.suite ? [s.suite] : fallback) out.add(x);
  }
  return [...out];
}

/**
 * A modules directory given with --modules: the release directory itself
 * (it holds kernel/ or modules.builtin), or an INSTALL_MOD_PATH root holding
 * lib/modules/RELEASE (or usr/lib/modules/RELEASE), the one matching
 * `release` when there are several.
 */
export function modulesDirOf(dir: string, release: string | undefined): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new KernelSourceError(`--modules ${dir}: not a directory`);
  if (existsSync(join(dir, 'kernel')) || existsSync(join(dir, 'modules.builtin'))) return dir;
  for (const root of ['lib/modules', 'usr/lib/modules', '.']) {
    const base = join(dir, root);
    if (!existsSync(base)) continue;
    const rels = readdirSync(base).filter((r) => existsSync(join(base, r, 'kernel')) || existsSync(join(base, r, 'modules.builtin')));
    const pick = rels.length === 1 ? rels[0] : rels.find((r) => r === release);
    if (pick) return join(base, pick);
    if (rels.length)
      throw new KernelSourceError(`--modules ${dir}: holds modules for ${rels.join(', ')}; none is the image's release ${release ?? '(unknown)'}`);
  }
  throw new KernelSourceError(
    `--modules ${dir}: no kernel/ or modules.builtin in it, nor under lib/modules/RELEASE: give the directory make modules_install wrote`,
  );
}

/**
 * For an image with everything built in: a modules directory with no modules
 * and a modules.builtin naming what /init would load, so that initramfs.ts
 * loads nothing. Only used once the config says they are built in, or when no
 * config is known (then a missing one ends the guest with "cannot mount the
 * host root", not a hang).
 */
export function builtinOnlyModulesDir(dir: string): string {
  mkdirSync(join(dir, 'kernel'), { recursive: true });
  writeFileSync(join(dir, 'modules.builtin'), NEEDED_MODULES.map((m) => `kernel/${m}.ko\n`).join(''));
  return dir;
}

export interface PreparedKernel {
  image: string;
  modulesDir: string;
  /** The release its files name (the booted kernel's uname -r is in its report). */
  release?: string;
  /** What was booted, exactly: package and version, or image path. */
  booted: string;
  config?: FoundConfig;
  check?: ConfigCheck;
}

/** dpkg-deb -f: a control field of a .deb. */
async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

/** Unpack these .debs into one tree under `cacheDir`, once (a marker written last makes an interrupted unpack redo). */
async function unpackOnce(tree: string, debs: string[], refresh: boolean, log: (m: string) => void): Promise<void> {
  const marker = join(tree, '.clonelab-unpacked');
  const want = `${debs.map((d) => basename(d)).join('\n')}\n`;
  if (!refresh && existsSync(marker) && readFileSync(marker, 'utf8') === want) return;
  mkdirSync(tree, { recursive: true });
  for (const d of debs) {
    log(`unpacking ${basename(d)}`);
    await execa('dpkg-deb', ['-x', d, tree]);
  }
  writeFileSync(marker, want);
}

export interface PrepareContext {
  /** The private APT of the guest's architecture (PrivateApt(cacheRoot, machine.debianArch)). */
  apt: PrivateApt;
  /** The guest's machine (default x86_64): its config check (serial console) and, for an image, the architecture it must be. */
  machine?: Machine;
  cacheRoot: string;
  /** Where this kernel's run writes (a modules directory for a built-in image goes there). */
  workDir: string;
  refresh: boolean;
  log: (m: string) => void;
}

/** Fetch or find the kernel a source names, and its config; a KernelSourceError says what is missing. */
export async function prepareKernel(src: KernelSource, ctx: PrepareContext): Promise<PreparedKernel> {
  let image: string;
  let modulesDir: string | undefined;
  let release: string | undefined;
  let booted: string;
  let explicitConfig: string | undefined;

  if (src.kind === 'image') {
    if (!existsSync(src.image)) throw new KernelSourceError(`--kernel-image ${src.image}: no such file`);
    image = src.image;
    const bytes = readFileSync(image);
    const m = ctx.machine ?? MACHINES.x86_64;
    const is = imageArch(bytes);
    if (is && is !== m.arch) throw new KernelSourceError(`--kernel-image ${src.image} is an ${is} kernel, booted as ${m.arch}: give it "arch": "${is}"`);
    release = imageRelease(bytes, image);
    modulesDir = src.modules ? modulesDirOf(src.modules, release) : undefined;
    booted = `image ${src.image}${modulesDir ? ` with modules ${modulesDir}` : ''}`;
    explicitConfig = src.config;
    if (explicitConfig && !existsSync(explicitConfig)) throw new KernelSourceError(`--config ${explicitConfig}: no such file`);
  } else {
    let debs: string[];
    let treeName: string;
    if (src.kind === 'deb') {
      if (!existsSync(src.deb)) throw new KernelSourceError(`--kernel-deb ${src.deb}: no such file`);
      const pkg = await debField(src.deb, 'Package');
      // 7.x splits a kernel in three packages: the others must lie beside this one.
      const companions = packagesOf(pkg).slice(1);
      const here = readdirSync(dirname(src.deb));
      const found = companions.map((c) => here.find((f) => f.startsWith(`${c}_`) && f.endsWith('.deb')));
      const lacking = companions.filter((_, i) => !found[i]);
      if (lacking.length)
        throw new KernelSourceError(`${src.deb} holds only the image of ${pkg}: put ${lacking.map((c) => `${c}_*.deb`).join(' and ')} beside it`);
      debs = [src.deb, ...found.map((f) => join(dirname(src.deb), f!))];
      treeName = `deb-${basename(src.deb, '.deb')}`;
      booted = `${pkg} ${await debField(src.deb, 'Version')} (${src.deb})`;
    } else {
      const pkg =
        src.kind === 'version' ? await ctx.apt.resolve({ version: src.version, suite: src.suite }) : await ctx.apt.kernelPackageOf(src.package, src.suite);
      const suite = src.suite;
      debs = [];
      for (const p of packagesOf(pkg)) {
        ctx.log(`fetching ${p}${suite ? ` from ${suite}` : ''}`);
        debs.push(await ctx.apt.download(p, ctx.refresh, suite));
      }
      treeName = pkg;
      booted = `${pkg} ${await debField(debs[0]!, 'Version')}${suite ? ` (${suite})` : ''}`;
    }
    const tree = join(ctx.cacheRoot, 'kernels', treeName);
    await unpackOnce(tree, debs, ctx.refresh, ctx.log);
    const files = findKernelFiles(tree);
    if (typeof files === 'string') throw new KernelSourceError(`${booted}: ${files}`);
    image = files.image;
    modulesDir = files.modulesDir;
    release = files.release;
  }

  const config = findKernelConfig({ image, release, modulesDir, explicit: explicitConfig });
  const check = config ? checkKernelConfig(parseKernelConfig(config.text), modulesDir !== undefined, ctx.machine) : undefined;
  return {
    image,
    modulesDir: modulesDir ?? builtinOnlyModulesDir(join(ctx.workDir, 'no-modules')),
    ...(release ? { release } : {}),
    booted,
    ...(config ? { config } : {}),
    ...(check ? { check } : {}),
  };
}

/**
 * The matrix column of a booted kernel: its name in kernels.json or on the
 * command line, what was booted, the kernel's own `uname -r` (from its
 * report; the files' release when there is no report) and the config hash;
 * `arch`, given when the matrix holds more than one architecture, leads it.
 */
export function columnLabel(name: string, k: Pick<PreparedKernel, 'booted' | 'release' | 'config'>, kernelRelease?: string, arch?: GuestArch): string {
  const uname = kernelRelease ?? k.release;
  return [`${arch ? `${arch} ` : ''}${name}: ${k.booted}`, uname ? `uname -r ${uname}` : undefined, k.config ? `config ${k.config.hash}` : undefined]
    .filter(Boolean)
    .join('; ');
}
