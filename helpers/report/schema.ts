/**
 * The published JSON Schemas of clonelab's reports (schemas/*.schema.json,
 * draft 2020-12) and their validation with Ajv. The schema files are the
 * contract: a consumer in any language validates against them; clonelab
 * validates every report it writes (a report that does not match is a
 * defect of clonelab) and every report it reads.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { PROJECT_ROOT } from '../harness/paths.js';

/** The report formats that have a schema: claims.json and matrix.json. */
export type SchemaName = 'claims' | 'matrix';

export const SCHEMA_FILES: Record<SchemaName, string> = {
  claims: join(PROJECT_ROOT, 'schemas', 'claims.schema.json'),
  matrix: join(PROJECT_ROOT, 'schemas', 'matrix.schema.json'),
};

/** A schema file as it is in the repository (for tests that walk it). */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(SCHEMA_FILES[name], 'utf8')) as Record<string, unknown>;
}

let ajv: Ajv2020 | undefined;
const validators: Partial<Record<SchemaName, ValidateFunction>> = {};

/**
 * Each schema compiled when first needed, once per process (compiling costs
 * about 0.1 s; a reader of claims.json never compiles the matrix schema).
 * Both are added first: the matrix schema refers to the claims schema's
 * definitions by its $id.
 */
function validator(name: SchemaName): ValidateFunction {
  if (!ajv) {
    // strict: a keyword Ajv does not know, or an ambiguous type, is an error in the schema itself, not ignored.
    // Except strictRequired: it wants `properties` beside every `required`, and the observation's then/else
    // require properties that the observation schema declares one level up.
    ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    for (const n of Object.keys(SCHEMA_FILES) as SchemaName[]) ajv.addSchema(loadSchema(n));
  }
  if (!validators[name]) {
    const id = loadSchema(name).$id as string;
    const v = ajv.getSchema(id);
    if (!v) throw new Error(`${SCHEMA_FILES[name]}: Ajv did not register its $id ${id}`);
    validators[name] = v;
  }
  return validators[name];
}

/**
 * One line per problem: the JSON pointer of the value, what the schema
 * expected there, and, for a value that is there, what was found. A failed
 * `if` is left out: what its then/else said is reported beside it.
 */
function describe(errors: ErrorObject[], value: unknown): string[] {
  const at = (pointer: string) => pointer || '/ (the top level)';
  const found = (pointer: string): string => {
    let v: unknown = value;
    for (const part of pointer.split('/').slice(1)) v = (v as Record<string, unknown>)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    const s = JSON.stringify(v);
    return s === undefined ? '' : ` (found ${s.length > 60 ? `${s.slice(0, 60)}…` : s})`;
  };
  const lines = errors
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const p = e.params as Record<string, unknown>;
      switch (e.keyword) {
        case 'required':
          return `${at(e.instancePath)}: the property "${String(p.missingProperty)}" is missing`;
        case 'additionalProperties':
          return `${at(e.instancePath)}: the property "${String(p.additionalProperty)}" is not in the schema`;
        case 'unevaluatedProperties':
          return `${at(e.instancePath)}: the property "${String(p.unevaluatedProperty)}" is not in the schema`;
        case 'enum':
          return `${at(e.instancePath)}: must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}${found(e.instancePath)}`;
        case 'const':
          return `${at(e.instancePath)}: must be ${JSON.stringify(p.allowedValue)}${found(e.instancePath)}`;
        case 'false schema':
          // The schema's `false`s forbid a property: `result` without `complete: true`, `unobserved` with it.
          return `${at(e.instancePath)}: must not be there${found(e.instancePath)}`;
        default:
          return `${at(e.instancePath)}: ${e.message ?? e.keyword}${found(e.instancePath)}`;
      }
    });
  return [...new Set(lines)];
}

/** What is wrong with `value` as a report of this format: [] when it matches the schema. */
export function schemaProblems(name: SchemaName, value: unknown): string[] {
  const validate = validator(name);
  return validate(value) ? [] : describe(validate.errors ?? [], value);
}

/** The problems as one message: the first few, and how many more. */
export function problemsText(problems: string[], max = 5): string {
  const more = problems.length > max ? `; and ${problems.length - max} more` : '';
  return `${problems.slice(0, max).join('; ')}${more}`;
}

/** The schema file's path as a reader of a message finds it (relative to the checkout). */
export const schemaPath = (name: SchemaName): string => relative(PROJECT_ROOT, SCHEMA_FILES[name]);

/** A report clonelab was about to write that does not match its own schema: a defect of clonelab. */
export class ReportSchemaError extends Error {
  override name = 'ReportSchemaError';
  constructor(
    readonly file: string,
    readonly problems: string[],
    schema: SchemaName,
  ) {
    super(
      `clonelab built a report that does not match ${schemaPath(schema)}, so ${file} was not written (a defect of clonelab: ` +
        `fix the code that builds it, or the schema and its schemaVersion if the format changed on purpose): ${problemsText(problems)}`,
    );
  }
}

/**
 * The JSON text of a report about to be written to `file`, checked against
 * its schema as a reader will parse it (undefined fields dropped). Throws a
 * ReportSchemaError naming the file and every mismatch.
 */
export function checkedJson(name: SchemaName, value: unknown, file: string): string {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  const problems = schemaProblems(name, JSON.parse(text));
  if (problems.length) throw new ReportSchemaError(file, problems, name);
  return text;
}
