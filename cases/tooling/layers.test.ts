/**
 * The harness stays apart from the product: helpers/harness/ knows probes and
 * /proc, nothing of claims, reports, the lab, the kernels or the command
 * line. Read from the code, not from comments: every module the harness
 * reaches through its imports (type-only, re-exports and import() included,
 * followed from module to module) must be in the harness, or be one of the
 * few modules outside it that the harness may use (each with its reason).
 * A harness module that needs something of the product takes it from its
 * caller instead (nested-suite.ts's readReport, say).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';

const HARNESS = 'helpers/harness';

/** Modules outside helpers/harness/ that the harness may import, and why. */
const ALLOWED_OUTSIDE: Record<string, string> = {
  'helpers/unobserved.ts': 'the reason a value was not observed: an error type both the harness and the cases raise, made of harness facts only',
};

/** The product, named in the message when the harness reaches into it. */
const PRODUCT = ['helpers/claims/', 'helpers/report/', 'helpers/lab/', 'helpers/kernels/', 'helpers/cli.ts', 'helpers/observations.ts', 'scripts/', 'cases/'];

/**
 * Every module specifier of a TypeScript source, from its syntax tree (so
 * comments and strings do not count): imports and exports, type-only ones
 * too, `import('...')` and `typeof import('...')`. An import() of anything
 * but a literal cannot be followed: it is returned as `import(<expression>)`,
 * which no rule allows.
 */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      out.push(node.moduleSpecifier.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      out.push(arg && ts.isStringLiteralLike(arg) ? arg.text : 'import(<expression>)');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal))
      out.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return out;
}

/** A relative specifier resolved to a project path ("helpers/harness/probe.ts"); undefined for a package or node: builtin. */
function resolveSpecifier(from: string, spec: string, exists: (p: string) => boolean): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(from), spec));
  // NodeNext: a TypeScript module is imported by its .js name.
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(exists) ?? candidates[0];
}

interface Crossing {
  /** The chain from a harness module to the module it should not reach. */
  chain: string[];
  what: string;
}

/**
 * Follow the imports from each start module; every module reached outside
 * the harness that is not allowed is a crossing, with the chain that reached
 * it (first one found, breadth first: the shortest).
 */
function crossings(starts: string[], read: (p: string) => string, exists: (p: string) => boolean): Crossing[] {
  const out: Crossing[] = [];
  const seen = new Set<string>(starts);
  const queue: string[][] = starts.map((s) => [s]);
  for (let chain = queue.shift(); chain; chain = queue.shift()) {
    const file = chain.at(-1)!;
    for (const spec of specifiers(read(file))) {
      if (spec === 'import(<expression>)') {
        out.push({ chain, what: 'an import() of a computed name, which cannot be checked: import a literal path' });
        continue;
      }
      const target = resolveSpecifier(file, spec, exists);
      if (!target || seen.has(target)) continue;
      seen.add(target);
      const inside = target.startsWith(`${HARNESS}/`) || target in ALLOWED_OUTSIDE;
      if (inside) {
        queue.push([...chain, target]);
        continue;
      }
      const product = PRODUCT.find((p) => target.startsWith(p) || target === p);
      out.push({ chain: [...chain, target], what: product ? `product code (${product})` : 'a module outside the harness that ALLOWED_OUTSIDE does not list' });
    }
  }
  return out;
}

const say = (c: Crossing) => `${c.chain.join(' -> ')}: ${c.what}`;

describe('helpers/harness/ imports nothing of the product', () => {
  test('no harness module reaches claims, reports, the lab, the kernels, the CLI or anything else outside the harness', () => {
    const starts = readdirSync(join(PROJECT_ROOT, HARNESS))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `${HARNESS}/${f}`);
    expect(starts.length).toBeGreaterThan(10);
    const found = crossings(
      starts,
      (p) => readFileSync(join(PROJECT_ROOT, p), 'utf8'),
      (p) => existsSync(join(PROJECT_ROOT, p)),
    );
    expect(
      found.map(say),
      'the harness must not depend on the product: move the pure part into helpers/harness/, or have the caller pass what the harness needs (as nested-suite.ts takes readReport); a module outside the harness it may use goes in ALLOWED_OUTSIDE with its reason',
    ).toEqual([]);
  });

  test('the check finds a crossing however it is written: type-only, re-export, import(), typeof import(), through another module; not in a comment', () => {
    const files: Record<string, string> = {
      'helpers/harness/a.ts': "import type { X } from '../claims/proc.js';\nexport * from './b.js';\nimport { readFileSync } from 'node:fs';",
      'helpers/harness/b.ts': "export { y } from '../unobserved.js';\nconst m = await import('../report/claims-report.js');",
      'helpers/unobserved.ts': "import { z } from './cli.js';",
      'helpers/harness/c.ts':
        "// not an import: import('../claims/ids.js') in a comment\nconst name = 'x';\nawait import(`../lab/${name}.js`);\nimport '../elsewhere.js';\ntype K = typeof import('../kernels/guest.js');",
    };
    const found = crossings(
      ['helpers/harness/a.ts', 'helpers/harness/c.ts'],
      (p) => files[p] ?? '',
      (p) => p in files,
    ).map(say);
    expect(found.sort()).toEqual(
      [
        'helpers/harness/a.ts -> helpers/claims/proc.ts: product code (helpers/claims/)',
        'helpers/harness/a.ts -> helpers/harness/b.ts -> helpers/report/claims-report.ts: product code (helpers/report/)',
        'helpers/harness/a.ts -> helpers/harness/b.ts -> helpers/unobserved.ts -> helpers/cli.ts: product code (helpers/cli.ts)',
        'helpers/harness/c.ts: an import() of a computed name, which cannot be checked: import a literal path',
        'helpers/harness/c.ts -> helpers/elsewhere.ts: a module outside the harness that ALLOWED_OUTSIDE does not list',
        'helpers/harness/c.ts -> helpers/kernels/guest.ts: product code (helpers/kernels/)',
      ].sort(),
    );
  });
});
