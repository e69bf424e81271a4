/**
 * Debian kernel packages fetched with apt-get through a private APT
 * configuration: its own sources list, state and cache under the project's
 * cache, never /etc/apt, and it works as non-root. The mirror is the one the
 * host's own APT uses (read from its sources), or CLONELAB_DEBIAN_MIRROR.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface KernelSpec {
  version: string;
  suite: string;
}

export class KernelFetchError extends Error {
  override name = 'KernelFetchError';
}

/** The Debian mirror URI the host's APT already uses. */
export function hostDebianMirror(): string {
  if (process.env.CLONELAB_DEBIAN_MIRROR) return process.env.CLONELAB_DEBIAN_MIRROR;
  const texts: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (/\.(sources|list)$/.test(f)) texts.push(readFileSync(join(dir, f), 'utf8'));
  }
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  for (const t of texts) {
    // deb822: "URIs: http://.../debian" in a stanza of Debian suites; one-line: "deb http://.../debian suite main"
    const m = t.match(/^URIs:\s*(\S+\/debian)\/?\s*$/m) ?? t.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+/m);
    if (m) return m[1]!;
  }
  throw new KernelFetchError('cannot tell which Debian mirror to use: the host has no Debian APT source; set CLONELAB_DEBIAN_MIRROR to a Debian mirror URI');
}

export class PrivateApt {
  readonly root: string;
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

  /** Write the sources for these suites and `apt-get update` (once per run unless refresh or missing). */
  async update(suites: string[], refresh: boolean): Promise<void> {
    const r = this.root;
    for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(r, d), { recursive: true });
    if (!existsSync(join(r, 'status'))) writeFileSync(join(r, 'status'), '');
    const mirror = hostDebianMirror();
    const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
    const signed = existsSync(keyring) ? `[signed-by=${keyring}] ` : '[trusted=yes] ';
    const sources = [...new Set(suites)].map((s) => `deb ${signed}${mirror} ${s} main`).join('\n') + '\n';
    const listFile = join(r, 'sources.list');
    const same = existsSync(listFile) && readFileSync(listFile, 'utf8') === sources;
    // Lists may be stored compressed (_Packages.lz4 when Acquire::GzipIndexes or the like is set).
    const haveLists = readdirSync(join(r, 'lists')).some((f) => /_Packages(\.\w+)?$/.test(f));
    if (same && haveLists && !refresh) return;
    writeFileSync(listFile, sources);
    const u = await execa('apt-get', [...this.options(), 'update'], { reject: false, all: true });
    if (u.exitCode !== 0) throw new KernelFetchError(`apt-get update for ${suites.join(', ')} failed:\n${u.all}`);
  }

  /** The newest kernel image package of this version in its suite. */
  async resolve(spec: KernelSpec): Promise<string> {
    const names = await execa('apt-cache', [...this.options(), 'pkgnames', 'linux-'], { reject: false });
    const candidates = names.stdout
      .split('\n')
      .filter((n) => new RegExp(`^linux-(image|binary)-\\d[\\w.+~-]*-${this.arch}$`).test(n) && !/(dbg|unsigned|cloud|rt)-/.test(n))
      .filter((n) => spec.version === 'newest' || n.replace(/^linux-(image|binary)-/, '').startsWith(`${spec.version}.`));
    // Only packages of this spec's suite: ask for each candidate's versions' origin.
    const inSuite = [];
    for (const n of candidates) {
      const policy = await execa('apt-cache', [...this.options(), 'policy', n], { reject: false });
      if (new RegExp(`\\s${spec.suite}/main\\s`).test(policy.stdout)) inSuite.push(n);
    }
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
    const dir = join(this.root, 'debs');
    const have = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (have && !refresh) return join(dir, have);
    const d = await execa('apt-get', [...this.options(), 'download', suite ? `${pkg}/${suite}` : pkg], { cwd: dir, reject: false, all: true });
    const got = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (d.exitCode !== 0 || !got) throw new KernelFetchError(`apt-get download ${pkg} failed:\n${d.all}`);
    return join(dir, got);
  }
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
