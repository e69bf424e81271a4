/**
 * One command-line parser for every script (scripts/*.ts) and for the lab's
 * experiments, on node:util's parseArgs. A command is declared once, as data
 * (its options with their value name, description, default and converter,
 * and its positional arguments); the usage line, --help and every error
 * message are generated from that declaration, so the same mistake is worded
 * the same way in every command:
 *
 *   unknown option '--bogus' (valid: --out, --help)
 *   -j takes a whole number >= 1, got '0'
 *   --out needs a directory
 *   --kill takes no value, got '--kill=yes'
 *   needs at least one REPORT, got none
 *   unexpected argument 'x'
 *
 * Exit status: 0 (and the help on stdout) for --help; 2 for a usage error,
 * its message and the usage line on stderr, before any work is done; 1 for a
 * failure while working (CommandFailure), its message on stderr. A script
 * exports its command (so tests parse its arguments in-process) and runs its
 * main() only when it is the entry point (runMain).
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Exit statuses of every command (and of the probes: native-helpers/clonelab.h, cl_usage() exits 2). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The arguments are wrong: exit status 2, the message and the usage line on stderr. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not do its work (a tool missing, a file unreadable): exit status 1, the message on stderr. */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
}

/** Stop the command with a failure (exit status 1). */
export function fail(message: string): never {
  throw new CommandFailure(message);
}

/** Thrown by a converter: the value is not what the option takes; the standard message is built around it. */
export class InvalidValue extends Error {
  override name = 'InvalidValue';
  /** Optional detail, appended in parentheses. */
  constructor(readonly detail?: string) {
    super(detail ?? 'invalid value');
  }
}

/** How a raw string becomes a value: `what` is the noun phrase of messages and help ("a whole number >= 1"). */
export interface Converter<T> {
  what: string;
  /** The value; throws InvalidValue (standard message) or UsageError (its own message). */
  convert(raw: string): T;
}

// ------------------------------------------------------------------ converters

/** A whole number (digits only), from min, to max when given. */
export function wholeNumber(min: number, max?: number): Converter<number> {
  return {
    what: max === undefined ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
    convert(raw) {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < min || (max !== undefined && n > max)) throw new InvalidValue();
      return n;
    },
  };
}

/** "a or b", "a, b or c" */
const orList = (xs: readonly string[]) => (xs.length <= 1 ? (xs[0] ?? 'nothing') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

/** One of a fixed set; `choices` may be read lazily (e.g. from a config file) when it is first needed. */
export function oneOf<C extends string>(choices: readonly C[] | (() => readonly C[]), source?: string): Converter<C> {
  const list = () => (typeof choices === 'function' ? choices() : choices);
  return {
    get what() {
      return `${orList(list())}${source ? ` (${source})` : ''}`;
    },
    convert(raw) {
      if (!(list() as readonly string[]).includes(raw)) throw new InvalidValue();
      return raw as C;
    },
  };
}

/** Several values of one converter, separated by commas. */
export function commaList<T>(item: Converter<T>): Converter<T[]> {
  return {
    get what() {
      return `${item.what}, or several separated by commas`;
    },
    convert(raw) {
      const words = raw.split(',').map((x) => x.trim());
      const bad: string[] = [];
      const values = words.flatMap((x) => {
        try {
          return [item.convert(x)];
        } catch (e) {
          if (!(e instanceof InvalidValue)) throw e;
          bad.push(`'${x}'`);
          return [];
        }
      });
      if (bad.length) throw new InvalidValue(words.length > 1 ? `not valid: ${bad.join(', ')}` : undefined);
      return values;
    },
  };
}

/** A directory, resolved against the current directory. */
export const directory: Converter<string> = {
  what: 'a directory',
  convert(raw) {
    if (!raw) throw new InvalidValue();
    return resolve(raw);
  },
};

/** A file or directory path, resolved against the current directory. */
export function path(what: string): Converter<string> {
  return {
    what,
    convert(raw) {
      if (!raw) throw new InvalidValue();
      return resolve(raw);
    },
  };
}

/** Any non-empty text, named for messages. */
export function text(what: string): Converter<string> {
  return {
    what,
    convert(raw) {
      if (!raw) throw new InvalidValue();
      return raw;
    },
  };
}

// ------------------------------------------------------------------ declarations

interface Common {
  description: string;
  /** One letter: -j for --jobs. */
  short?: string;
}

export interface FlagOption extends Common {
  kind: 'flag';
}

export interface ValueOption<T, HasDefault extends boolean> extends Common {
  kind: 'value';
  /** The value's name in the usage and help: DIR, N, VERSION. */
  value: string;
  convert: Converter<T>;
  /** The value when the option is not given; a function is called at parse time (e.g. a path under the project). */
  default?: T | (() => T);
  /** How the default is shown in --help when not String(default): "reports/", "the number of CPUs". */
  defaultText?: string;
  /** Typing only: whether the parsed value is always there. */
  readonly _hasDefault?: HasDefault;
}

export interface RepeatedOption<T> extends Common {
  kind: 'repeated';
  value: string;
  convert: Converter<T>;
}

export type AnyOption = FlagOption | ValueOption<unknown, boolean> | RepeatedOption<unknown>;

/** An on/off switch. */
export function flag(description: string, more: { short?: string } = {}): FlagOption {
  return { kind: 'flag', description, ...more };
}

/** An option that takes one value (given twice: the last one counts). */
export function option<T>(o: Omit<ValueOption<T, true>, 'kind' | '_hasDefault'> & { default: T | (() => T) }): ValueOption<T, true>;
export function option<T>(o: Omit<ValueOption<T, false>, 'kind' | '_hasDefault' | 'default'>): ValueOption<T, false>;
export function option<T>(o: Omit<ValueOption<T, boolean>, 'kind' | '_hasDefault'>): ValueOption<T, boolean> {
  return { kind: 'value', ...o };
}

/** An option that may be given several times; the values in order (none: an empty list). */
export function repeated<T>(o: Omit<RepeatedOption<T>, 'kind'>): RepeatedOption<T> {
  return { kind: 'repeated', ...o };
}

export interface PositionalSpec<T> {
  /** Its name in the usage: REPORT, PID, N. */
  name: string;
  description: string;
  /** How many (default 0 to unlimited). */
  min?: number;
  max?: number;
  convert?: Converter<T>;
}

export interface CommandSpec<O extends Record<string, AnyOption> = Record<string, AnyOption>, P = string> {
  /** The name in messages: "report", "check:faults", "lab ids". */
  name: string;
  /** How a user runs it, before the arguments (default: `npm run NAME --`). */
  invocation?: string;
  /** One or two sentences for --help. */
  summary: string;
  options: O;
  positionals?: PositionalSpec<P>;
  /** Checks across options, after each was converted; throws UsageError. */
  check?: (values: Values<O, P>) => void;
  /** More text for --help (e.g. the list of kernels), computed when asked. */
  epilog?: () => string;
}

type OptionValue<X> = X extends FlagOption
  ? boolean
  : X extends RepeatedOption<infer T>
    ? T[]
    : X extends ValueOption<infer T, infer D>
      ? D extends true
        ? T
        : T | undefined
      : never;

export type Values<O extends Record<string, AnyOption>, P = string> = { -readonly [K in keyof O]: OptionValue<O[K]> } & { positionals: P[] };

/** The values a command's parse() returns: `ValuesOf<typeof command>` for a script's exported main(). */
export type ValuesOf<C> = C extends Command<infer O, infer P> ? Values<O, P> : never;

/** The built-in --help of every command. */
const HELP: FlagOption = flag('print this help and exit', { short: 'h' });

export interface Command<O extends Record<string, AnyOption>, P = string> {
  spec: CommandSpec<O, P>;
  /** The arguments as values, or a UsageError; null when --help was asked for. */
  parse(argv: readonly string[]): Values<O, P> | null;
  /** The one-line synopsis: "usage: npm run report -- [--out DIR] [FILTER...]". */
  usage(): string;
  /** The whole --help text. */
  help(): string;
}

const dashed = (name: string, o: AnyOption) => (o.short ? `-${o.short}` : `--${name}`);

/**
 * A default as --help shows it without a defaultText: a list comma-separated
 * (as commaList reads it), another object as JSON, a plain value as String()
 * gives it; none for a computed one.
 */
function shownDefault(d: unknown): string | undefined {
  switch (typeof d) {
    case 'undefined':
    case 'function':
      return undefined;
    case 'object':
      return d === null ? 'null' : Array.isArray(d) ? d.join(',') : JSON.stringify(d);
    default:
      return String(d);
  }
}

export function defineCommand<O extends Record<string, AnyOption>, P = string>(spec: CommandSpec<O, P>): Command<O, P> {
  const all: Record<string, AnyOption> = { ...spec.options, help: HELP };

  function usage(): string {
    const parts = Object.entries(spec.options).map(([name, o]) => {
      const word = dashed(name, o);
      if (o.kind === 'flag') return `[${word}]`;
      return o.kind === 'repeated' ? `[${word} ${o.value}]...` : `[${word} ${o.value}]`;
    });
    const p = spec.positionals;
    if (p) {
      const min = p.min ?? 0;
      const max = p.max ?? Infinity;
      const words = Array.from({ length: Math.min(min, 2) }, () => p.name);
      if (max > min) words.push(max === Infinity ? `[${p.name}...]` : `[${p.name}]`);
      parts.push(words.join(' '));
    }
    return `usage: ${spec.invocation ?? `npm run ${spec.name}${parts.length ? ' --' : ''}`} ${parts.join(' ')}`.trimEnd();
  }

  function help(): string {
    const rows: [string, string][] = Object.entries(all).map(([name, o]) => {
      const left = `${o.short ? `-${o.short}, ` : ''}--${name}${o.kind === 'flag' ? '' : ` ${o.value}`}`;
      let right = o.description;
      if (o.kind !== 'flag') right += ` (${o.convert.what}${o.kind === 'repeated' ? '; may be repeated' : ''}`;
      if (o.kind === 'value') {
        const shown = o.defaultText ?? shownDefault(o.default);
        right += shown !== undefined ? `; default ${shown})` : ')';
      } else if (o.kind === 'repeated') right += ')';
      return [left, right];
    });
    const p = spec.positionals;
    if (p) rows.push([p.name, `${p.description}${p.convert ? ` (${p.convert.what})` : ''}`]);
    const width = Math.max(...rows.map(([l]) => l.length));
    return [usage(), '', spec.summary, '', ...rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`), ...(spec.epilog ? ['', spec.epilog()] : []), ''].join('\n');
  }

  function parse(argv: readonly string[]): Values<O, P> | null {
    const { tokens } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(all).map(([name, o]) => [name, { type: o.kind === 'flag' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) }]),
      ),
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
    // --help wins over every other problem: whoever asks for it wants to read it.
    if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return null;
    const values: Record<string, unknown> = {};
    const raw: string[] = [];
    for (const t of tokens) {
      if (t.kind === 'positional') raw.push(t.value);
      if (t.kind !== 'option') continue;
      const o = all[t.name];
      const typed = argv[t.index]!;
      if (!o)
        throw new UsageError(
          `unknown option '${typed}' (valid: ${Object.entries(all)
            .map(([n]) => `--${n}`)
            .join(', ')})`,
        );
      if (o.kind === 'flag') {
        if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value, got '${typed}'`);
        values[t.name] = true;
        continue;
      }
      // parseArgs takes the next word as the value even when it is another option (`--out --help`): refuse that.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && t.value !== '-')) {
        throw new UsageError(
          `${t.rawName} needs ${o.convert.what}${t.value !== undefined ? ` (to give a value that starts with '-', write ${t.rawName}=VALUE)` : ''}`,
        );
      }
      const v = convertValue(o.convert, t.value, t.rawName);
      values[t.name] = o.kind === 'repeated' ? [...((values[t.name] as unknown[]) ?? []), v] : v;
    }
    for (const [name, o] of Object.entries(spec.options)) {
      if (values[name] !== undefined) continue;
      if (o.kind === 'flag') values[name] = false;
      else if (o.kind === 'repeated') values[name] = [];
      else if (o.default !== undefined) values[name] = typeof o.default === 'function' ? (o.default as () => unknown)() : o.default;
    }
    const p = spec.positionals;
    const min = p?.min ?? 0;
    const max = p ? (p.max ?? Infinity) : 0;
    if (raw.length > max) throw new UsageError(`unexpected argument '${raw[max]}'`);
    if (raw.length < min)
      throw new UsageError(`needs ${min === max ? 'exactly' : 'at least'} ${min === 1 ? 'one' : min} ${p!.name}, got ${raw.length || 'none'}`);
    values.positionals = p?.convert ? raw.map((r) => convertValue(p.convert!, r, p.name)) : raw;
    spec.check?.(values as Values<O, P>);
    return values as Values<O, P>;
  }

  return { spec, parse, usage, help };
}

function convertValue<T>(c: Converter<T>, raw: string, flagName: string): T {
  try {
    return c.convert(raw);
  } catch (e) {
    if (e instanceof InvalidValue) throw new UsageError(`${flagName} takes ${c.what}, got '${raw}'${e.detail ? ` (${e.detail})` : ''}`);
    throw e;
  }
}

// ------------------------------------------------------------------ running

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/**
 * Parse, then run `main` with the values; returns the exit status: 0 for
 * --help, 2 for a UsageError (raised by the parser or by main, e.g. an
 * argument that needs a lookup to be judged), 1 for a CommandFailure, else
 * main's own status. Any other error is a defect and propagates with its stack.
 */
export async function runCommand<O extends Record<string, AnyOption>, P>(
  cmd: Command<O, P>,
  argv: readonly string[],
  main: (values: Values<O, P>, io: Io) => Promise<number | void> | number | void,
  io: Io = processIo,
): Promise<number> {
  try {
    const values = cmd.parse(argv);
    if (!values) {
      io.out(cmd.help());
      return EXIT.ok;
    }
    return (await main(values, io)) ?? EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${cmd.spec.name}: ${e.message}\n${cmd.usage()}  (--help for more)\n`);
      return EXIT.usage;
    }
    if (e instanceof CommandFailure) {
      io.err(`${cmd.spec.name}: ${e.message}\n`);
      return EXIT.failure;
    }
    throw e;
  }
}

/** Is the module at this import.meta.url the file node (or tsx) was started with? */
export function isEntryPoint(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(started);
  } catch {
    return false;
  }
}

/**
 * A script's last line: when the script is the entry point, run the command
 * and exit with its status (process.exit: the scripts' child processes and
 * timers must not keep node alive after the answer is known). On import
 * (tests), nothing runs.
 */
export async function runMain<O extends Record<string, AnyOption>, P>(
  moduleUrl: string,
  cmd: Command<O, P>,
  main: (values: Values<O, P>, io: Io) => Promise<number | void> | number | void,
): Promise<void> {
  if (!isEntryPoint(moduleUrl)) return;
  process.exit(await runCommand(cmd, process.argv.slice(2), main));
}
