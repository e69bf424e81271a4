/**
 * What an experiment returns, how the lab declares one, and the few words
 * every experiment's sentences share.
 */
import { plural } from '../claims/prose.js';
import { type AnyOption, type Command, defineCommand, flag, type FlagOption, type PositionalSpec, type Values } from '../cli.js';

export interface LabResult {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
  /** What --json prints. */
  data: unknown;
}

/** One experiment: its command (options, --help, errors: helpers/cli.ts) and what it runs. */
export interface LabExperiment {
  name: string;
  summary: string;
  command: Command<Record<string, AnyOption>, unknown>;
  run(values: Values<Record<string, AnyOption>, unknown>): Promise<LabResult>;
}

/** Every experiment takes --json: the data instead of the table. */
const JSON_FLAG = flag('print the data as JSON instead of the table');

/** Declare an experiment: `npm run lab -- NAME [options]`, its values typed for `run`. */
export function defineExperiment<O extends Record<string, AnyOption>, P = string>(
  name: string,
  spec: { summary: string; options: O; positionals?: PositionalSpec<P> },
  run: (values: Values<O & { json: FlagOption }, P>) => Promise<LabResult>,
): LabExperiment {
  const command = defineCommand<O & { json: FlagOption }, P>({
    name: `lab ${name}`,
    invocation: `npm run lab -- ${name}`,
    summary: spec.summary,
    options: { ...spec.options, json: JSON_FLAG },
    ...(spec.positionals ? { positionals: spec.positionals } : {}),
  });
  // The registry holds experiments of different option types; each run() only ever gets its own command's values.
  return { name, summary: spec.summary, command: command as unknown as LabExperiment['command'], run: run };
}

export const yes = (b: boolean) => (b ? 'yes' : 'no');

/*
 * Every sentence the lab prints besides its table rows is made here, by pure
 * functions over the same facts the rows are made from: a statement is printed
 * only when the rows show it; otherwise the sentence says what the rows show.
 * A value that could not be read is shown as "absent (reason)", never as -1,
 * 0, '?' or '-'. Lists and plurals are helpers/claims/prose.ts's, as in the
 * claims' explanations; the lab lists every item (listAll), since its reader
 * asked for that one experiment.
 */

/** How a value that could not be read is shown: absent, with the reason. */
export const absent = (why: string): string => `absent (${why})`;

export const tasks_ = (n: number): string => plural(n, 'task');
/** "in all 4 tasks", "in the one task". */
export const inAll = (n: number): string => (n === 1 ? 'in the one task' : n === 2 ? 'in both tasks' : `in all ${n} tasks`);
