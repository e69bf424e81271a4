/**
 * Debian kernel packages fetched with apt-get through a private APT
 * configuration: its own sources list, state and cache under the project's
 * cache, never /etc/apt, and it works as non-root. Where the mirror comes from
 * and which keyring verifies it are decided here (chooseDebianMirror,
 * debianKeyring) and said in the run's output.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFileAtomic } from '../harness/fs.js';
import { join } from 'node:path';
import { execa } from 'execa';

export interface KernelSpec {
  version: string;
  suite: string;
}

export class KernelFetchError extends Error {
  override name = 'KernelFetchError';
}

/** Debian's own redirector to a nearby mirror (https://deb.debian.org): the mirror of last resort. */
export const DEBIAN_REDIRECTOR = 'http://deb.debian.org/debian';
/** Where Debian and Ubuntu both install the `debian-archive-keyring` package's keyring. */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface DebianMirror {
  uri: string;
  /** Where the URI came from, in words: the run prints it beside the URI. */
  from: string;
}

/**
 * A Debian suite as an APT source names it: a codename (bullseye ... forky,
 * sid) or stable/testing/unstable, with an optional -updates/-backports
 * suffix (-security lives at .../debian-security, not .../debian).
 */
const DEBIAN_SUITE = /^[a-z]+(?:-(?:updates|backports|backports-sloppy|proposed-updates))?$/;

/**
 * One APT source is a Debian archive when it serves a Debian suite's `main`
 * from a path ending in /debian: archive.ubuntu.com and PPAs end otherwise,
 * and Docker's download.docker.com/linux/debian serves `stable`, not `main`.
 */
function isDebianArchive(uri: string, suites: string[], components: string[]): boolean {
  return /\/debian\/?$/.test(uri) && components.includes('main') && suites.some((s) => DEBIAN_SUITE.test(s));
}

/**
 * The Debian mirror in these APT source files (sources.list one-line entries,
 * or deb822 .sources stanzas; man 5 sources.list), or undefined. Only `deb`
 * entries serving a Debian suite's main component from a path ending in
 * /debian count, so an Ubuntu runner's archive.ubuntu.com, a PPA or Docker's
 * /linux/debian repository is never taken for Debian.
 */
export function debianMirrorIn(files: { file: string; text: string }[]): { uri: string; file: string } | undefined {
  for (const { file, text } of files) {
    const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
    // one-line: deb [options] URI SUITE COMPONENT...
    for (const l of lines) {
      const m = l.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)\s*$/);
      if (m && isDebianArchive(m[1]!, [m[2]!], m[3]!.trim().split(/\s+/))) return { uri: m[1]!.replace(/\/$/, ''), file };
    }
    // deb822: stanzas separated by blank lines, fields "Name: value".
    for (const stanza of lines.join('\n').split(/\n\s*\n/)) {
      const field = (name: string) =>
        stanza
          .match(new RegExp(`^${name}:\\s*(.*)$`, 'mi'))?.[1]
          ?.trim()
          .split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || /^Enabled:\s*no\s*$/im.test(stanza)) continue;
      const uri = field('URIs').find((u) => isDebianArchive(u, field('Suites'), field('Components')));
      if (uri) return { uri: uri.replace(/\/$/, ''), file };
    }
  }
  return undefined;
}

/** The APT source files under an etc/apt directory (sources.list.d/*.{list,sources}, then sources.list), with their text. */
export function aptSourceFiles(aptDir: string): { file: string; text: string }[] {
  const files: string[] = [];
  const parts = join(aptDir, 'sources.list.d');
  if (existsSync(parts))
    files.push(
      ...readdirSync(parts)
        .filter((f) => /\.(sources|list)$/.test(f))
        .sort()
        .map((f) => join(parts, f)),
    );
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

/**
 * The Debian mirror a run fetches from, first found of: --mirror, the
 * CLONELAB_DEBIAN_MIRROR environment variable (empty counts as unset, so a
 * workflow may pass an unset repository variable), the host's own Debian APT
 * source (a Debian host already knows its nearest mirror), and else Debian's
 * redirector, which is what a GitHub Ubuntu runner gets. `aptDir` stands for
 * /etc/apt in tests (a runner has no Debian source there).
 */
export function chooseDebianMirror(o: { flag?: string; env?: NodeJS.ProcessEnv; aptDir?: string } = {}): DebianMirror {
  const env = o.env ?? process.env;
  const aptDir = o.aptDir ?? '/etc/apt';
  if (o.flag) return { uri: o.flag, from: '--mirror' };
  if (env.CLONELAB_DEBIAN_MIRROR) return { uri: env.CLONELAB_DEBIAN_MIRROR, from: 'CLONELAB_DEBIAN_MIRROR' };
  const host = debianMirrorIn(aptSourceFiles(aptDir));
  if (host) return { uri: host.uri, from: `the host's APT source ${host.file}` };
  return { uri: DEBIAN_REDIRECTOR, from: `Debian's redirector: no Debian source in ${aptDir}, no --mirror or CLONELAB_DEBIAN_MIRROR` };
}

/**
 * The keyring that verifies the private APT's Release files:
 * CLONELAB_DEBIAN_KEYRING (a mirror or snapshot signed with its own key), else
 * Debian's archive keyring. A missing keyring is an error, never a fall-back
 * to `[trusted=yes]`, and there is deliberately no opt-out: the mirror is
 * usually plain http, the signature is the only thing that ties a package to
 * Debian, and what is fetched is a kernel that boots with the host's root
 * mounted in it. Unsigned kernels a user trusts still boot with --kernel-deb.
 */
export function debianKeyring(o: { env?: NodeJS.ProcessEnv; path?: string } = {}): { path: string; from: string } {
  const env = o.env ?? process.env;
  const chosen = env.CLONELAB_DEBIAN_KEYRING
    ? { path: env.CLONELAB_DEBIAN_KEYRING, from: 'CLONELAB_DEBIAN_KEYRING' }
    : { path: o.path ?? DEBIAN_KEYRING, from: "Debian's archive keyring" };
  if (existsSync(chosen.path)) return chosen;
  if (chosen.from === 'CLONELAB_DEBIAN_KEYRING')
    throw new KernelFetchError(`CLONELAB_DEBIAN_KEYRING=${chosen.path}: no such file; name the keyring that signs your mirror`);
  throw new KernelFetchError(
    `cannot verify Debian's packages: ${chosen.path} is missing. Install Debian's archive keyring (Debian and Ubuntu both ship it: sudo apt-get install debian-archive-keyring), or set CLONELAB_DEBIAN_KEYRING to the keyring that signs your mirror. Kernels are never fetched unverified.`,
  );
}

/** The run's line saying where packages come from and what verifies them. */
export function aptSourceLine(mirror: DebianMirror, keyring: { path: string; from: string }): string {
  return `[apt] mirror ${mirror.uri} (${mirror.from}); verified with ${keyring.path} (${keyring.from})`;
}

/** The private sources.list: each suite's main component from the mirror, verified by the keyring (signed-by, man 5 sources.list). */
export function privateSourcesList(suites: string[], mirror: string, keyring: string): string {
  return [...new Set(suites)].map((s) => `deb [signed-by=${keyring}] ${mirror} ${s} main`).join('\n') + '\n';
}

export class PrivateApt {
  readonly root: string;
  /** The downloaded .deb files, kept across runs (what .github/workflows/kernels.yml caches). */
  readonly debs: string;
  /**
   * `arch` is a Debian architecture name (amd64, arm64): the one whose
   * packages this APT lists and downloads. Each has its own state directory,
   * since APT keeps one set of lists per configuration.
   */
  constructor(
    cacheRoot: string,
    readonly arch = 'amd64',
  ) {
    this.root = join(cacheRoot, arch === 'amd64' ? 'apt' : `apt-${arch}`);
    this.debs = join(this.root, 'debs');
  }

  private options(): string[] {
    const r = this.root;
    return [
      '-o',
      `Dir::Etc::SourceList=${join(r, 'sources.list')}`,
      '-o',
      'Dir::Etc::SourceParts=/dev/null',
      '-o',
      `Dir::State::Lists=${join(r, 'lists')}`,
      '-o',
      `Dir::State::Status=${join(r, 'status')}`,
      '-o',
      `Dir::Cache=${join(r, 'cache')}`,
      '-o',
      'Debug::NoLocking=1',
      '-o',
      `APT::Architecture=${this.arch}`,
      '-o',
      'APT::Sandbox::User=root', // downloads into our own directory, whoever we are
      // sid's Release files expire quickly; old suites' too on archived mirrors
      '-o',
      'Acquire::Check-Valid-Until=false',
    ];
  }

  /**
   * Write the sources for these suites and `apt-get update` (once per run
   * unless refresh, the lists are missing, or the sources changed: a new
   * mirror or keyring updates again).
   */
  async update(suites: string[], refresh: boolean, source: { mirror: string; keyring: string }): Promise<void> {
    const r = this.root;
    for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(r, d), { recursive: true });
    if (!existsSync(join(r, 'status'))) writeFileSync(join(r, 'status'), '');
    const listFile = join(r, 'sources.list');
    const before = existsSync(listFile) ? readFileSync(listFile, 'utf8') : '';
    // The suites already listed stay: a run of one kernel after a run of another does not fetch every list again.
    const listed = before.split('\n').flatMap((l) => (l.includes(` ${source.mirror} `) && l.includes(source.keyring) ? [l.split(/\s+/).at(-2) ?? ''] : []));
    const sources = privateSourcesList([...new Set([...listed.filter(Boolean), ...suites])], source.mirror, source.keyring);
    // Lists may be stored compressed (_Packages.lz4 when Acquire::GzipIndexes or the like is set).
    const haveLists = readdirSync(join(r, 'lists')).some((f) => /_Packages(\.\w+)?$/.test(f));
    if (before === sources && haveLists && !refresh) return;
    writeFileSync(listFile, sources);
    const u = await execa('apt-get', [...this.options(), 'update'], { reject: false, all: true });
    if (u.exitCode !== 0) throw new KernelFetchError(`apt-get update for ${suites.join(', ')} failed:\n${u.all}`);
  }

  /**
   * The newest kernel image package of this version in its suite. Remembered
   * in resolved.json until the lists change (apt-cache loads every suite's
   * lists on each call: 10-15 s per kernel on 2 cores).
   */
  async resolve(spec: KernelSpec): Promise<string> {
    const memoFile = join(this.root, 'resolved.json');
    const lists = readdirSync(join(this.root, 'lists'))
      .filter((f) => f.endsWith('Release'))
      .sort()
      .map((f) => `${f}:${statSync(join(this.root, 'lists', f)).mtimeMs}`)
      .join(',');
    const key = `${spec.version}@${spec.suite}`;
    let memo: { lists: string; packages: Record<string, string> } = { lists, packages: {} };
    try {
      const m = JSON.parse(readFileSync(memoFile, 'utf8')) as typeof memo;
      if (m.lists === lists) memo = m;
    } catch {
      // no memo yet, or an unreadable one: resolve again
    }
    const known = memo.packages[key];
    if (known) return known;
    const found = await this.resolveFromLists(spec);
    memo.packages[key] = found;
    writeFileAtomic(memoFile, JSON.stringify(memo));
    return found;
  }

  private async resolveFromLists(spec: KernelSpec): Promise<string> {
    const names = await execa('apt-cache', [...this.options(), 'pkgnames', 'linux-'], { reject: false });
    const candidates = names.stdout
      .split('\n')
      .filter((n) => new RegExp(`^linux-(image|binary)-\\d[\\w.+~-]*-${this.arch}$`).test(n) && !/(dbg|unsigned|cloud|rt)-/.test(n))
      .filter((n) => spec.version === 'newest' || n.replace(/^linux-(image|binary)-/, '').startsWith(`${spec.version}.`));
    // Only packages of this spec's suite: one `apt-cache madison` for all candidates (a `policy` call per
    // candidate took about 170 s for the four default kernels: each call loads all the suites' lists again).
    const madison = candidates.length ? await execa('apt-cache', [...this.options(), 'madison', ...candidates], { reject: false }) : undefined;
    const inSuite = [...packagesInSuite(madison?.stdout ?? '', spec.suite)];
    // From 7.x, linux-image-* is a metapackage and linux-binary-* holds the kernel.
    const byVersion = inSuite.sort(
      (a, b) => compareVersions(a.replace(/^linux-\w+-/, ''), b.replace(/^linux-\w+-/, '')) || (a.startsWith('linux-binary') ? 1 : -1),
    );
    const best = byVersion.at(-1);
    if (!best) throw new KernelFetchError(`no linux-image or linux-binary package for ${spec.version} in Debian ${spec.suite}`);
    return best;
  }

  /**
   * The package holding the kernel a name leads to: a versioned
   * linux-image-RELEASE or linux-binary-RELEASE as is; a metapackage
   * (linux-image-cloud-amd64, linux-image-rt-amd64, and from 7.x
   * linux-image-RELEASE itself, which pulls linux-binary-RELEASE) followed
   * through its Depends, a few steps at most.
   */
  async kernelPackageOf(name: string, suite?: string): Promise<string> {
    let pkg = name;
    for (let step = 0; step < 4; step++) {
      const d = await execa('apt-cache', [...this.options(), 'depends', '--no-recommends', '--no-suggests', suite ? `${pkg}/${suite}` : pkg], {
        reject: false,
        all: true,
      });
      if (d.exitCode !== 0)
        throw new KernelFetchError(`no package ${pkg}${suite ? ` in Debian ${suite}` : ''} (apt-cache depends: ${d.all?.trim().split('\n').at(-1)})`);
      const next = nextKernelPackage(pkg, d.stdout);
      if (!next) return pkg;
      pkg = next;
    }
    throw new KernelFetchError(`${name}: still a metapackage after 4 steps (at ${pkg}): name the linux-image-RELEASE package`);
  }

  /** Download a package (from `suite`, when named) into the cache (kept across runs) and return the .deb path. */
  async download(pkg: string, refresh: boolean, suite?: string): Promise<string> {
    const dir = this.debs;
    const have = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (have && !refresh) return join(dir, have);
    const d = await execa('apt-get', [...this.options(), 'download', suite ? `${pkg}/${suite}` : pkg], { cwd: dir, reject: false, all: true });
    const got = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (d.exitCode !== 0 || !got) throw new KernelFetchError(`apt-get download ${pkg} failed:\n${d.all}`);
    return join(dir, got);
  }
}

/**
 * The packages that `apt-cache madison` lists with a version from `suite`'s main
 * component. Its lines read `NAME | VERSION | URI SUITE/main ARCH Packages`.
 */
export function packagesInSuite(madison: string, suite: string): Set<string> {
  const found = new Set<string>();
  for (const line of madison.split('\n')) {
    const [name, , origin] = line.split('|').map((f) => f.trim());
    if (name && origin?.split(/\s+/).includes(`${suite}/main`)) found.add(name);
  }
  return found;
}

/**
 * From `apt-cache depends PKG` output, the package one step nearer the kernel,
 * or undefined when PKG holds it: linux-binary-X for a 7.x linux-image-X,
 * the versioned linux-image-RELEASE a flavour metapackage depends on.
 */
export function nextKernelPackage(pkg: string, dependsOutput: string): string | undefined {
  const deps = [...dependsOutput.matchAll(/^\s*\|?(?:Pre)?Depends:\s*(\S+)/gm)].map((m) => m[1]!.replace(/:[a-z0-9]+$/, '')); // ":amd64", ":arm64"
  const binary = deps.find((d) => /^linux-binary-\d/.test(d));
  if (binary) return binary;
  if (/^linux-(image|binary)-\d/.test(pkg)) return undefined;
  return deps.find((d) => /^linux-image-\d/.test(d));
}

/** Compare dotted/dashed version strings numerically where they are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+~-]/);
  const pb = b.split(/[.+~-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (c) return c;
  }
  return 0;
}
