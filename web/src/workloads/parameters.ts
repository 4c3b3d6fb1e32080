// Parameters and environment variables as the forms edit them. Pure: tested in
// web/test/workload-forms.test.ts.
import type { EnvVarInput, ParameterInput } from '../gql/graphql';

// The server's pattern (server/src/workloads/parameters.ts): `Param::<key>` in a command argument.
const PLACEHOLDER = /Param::([A-Za-z0-9_.-]+)/g;

/** The `Param::<key>` placeholders of a command, in order of first appearance. */
export function placeholderKeys(command: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const argument of command) {
    for (const match of argument.matchAll(PLACEHOLDER)) keys.add(match[1]!);
  }
  return [...keys];
}

export interface ParameterRow {
  key: string;
  value: string;
  /** The definition's default, when it has one. */
  defaultValue?: string;
  /** The command uses it (a placeholder) rather than only having a default for it. */
  placeholder: boolean;
}

/**
 * One row per parameter a job of this definition takes: its command's placeholders first, then
 * keys that only have defaults. Values start at `values` (a job being resubmitted), else the defaults.
 */
export function parameterRows(
  command: readonly string[],
  defaults: readonly { key: string; value: string }[],
  values: readonly { key: string; value: string }[] = [],
): ParameterRow[] {
  const defaultOf = new Map(defaults.map((parameter) => [parameter.key, parameter.value]));
  const valueOf = new Map(values.map((parameter) => [parameter.key, parameter.value]));
  const placeholders = placeholderKeys(command);
  const keys = [
    ...placeholders,
    ...defaults.map((parameter) => parameter.key).filter((key) => !placeholders.includes(key)),
  ];
  return keys.map((key) => ({
    key,
    value: valueOf.get(key) ?? defaultOf.get(key) ?? '',
    defaultValue: defaultOf.get(key),
    placeholder: placeholders.includes(key),
  }));
}

/** Placeholders left without a value and without a default: the server would refuse the job. */
export function missingParameterKeys(rows: readonly ParameterRow[]): string[] {
  return rows
    .filter((row) => row.placeholder && row.value === '' && row.defaultValue === undefined)
    .map((row) => row.key);
}

/** The job's own values: rows that differ from the default (an empty row falls back to it). */
export function parameterInputs(rows: readonly ParameterRow[]): ParameterInput[] {
  return rows
    .filter((row) => row.value !== '' && row.value !== row.defaultValue)
    .map((row) => ({ key: row.key, value: row.value }));
}

export interface EnvRow {
  name: string;
  value: string;
  sensitive: boolean;
  /**
   * A stored variable whose value the page does not have (a sensitive one): left empty, the server
   * keeps its value (definition updates only).
   */
  keepsStoredValue: boolean;
}

export function emptyEnvRow(): EnvRow {
  return { name: '', value: '', sensitive: false, keepsStoredValue: false };
}

/** Rows for variables the server shows (a definition's, or a job's overrides). */
export function envRowsOf(
  env: readonly { name: string; value?: string | null; sensitive: boolean }[],
  options: { keepSensitive: boolean },
): EnvRow[] {
  return env.map((variable) => ({
    name: variable.name,
    value: variable.sensitive ? '' : (variable.value ?? ''),
    sensitive: variable.sensitive,
    keepsStoredValue: variable.sensitive && options.keepSensitive,
  }));
}

/** The `env` input: blank rows dropped; a kept value is sent without one. */
export function envInputs(rows: readonly EnvRow[]): EnvVarInput[] {
  return rows
    .filter((row) => row.name.trim() !== '' || row.value !== '')
    .map((row) => ({
      name: row.name.trim(),
      sensitive: row.sensitive,
      ...(row.value === '' && row.keepsStoredValue ? {} : { value: row.value }),
    }));
}

/** A command typed one argument per line (blank lines dropped). */
export function commandFromText(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

export function commandToText(command: readonly string[]): string {
  return command.join('\n');
}

/** Parameter defaults typed as `key=value` lines; problems name the line. */
export function parseDefaultsText(text: string): { parameters: ParameterInput[]; problem?: string } {
  const parameters: ParameterInput[] = [];
  const lines = text.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const separator = line.indexOf('=');
    const key = separator < 0 ? '' : line.slice(0, separator).trim();
    if (!key) return { parameters, problem: `Line ${index + 1}: write key=value, e.g. region=eu-west-1.` };
    if (parameters.some((parameter) => parameter.key === key)) {
      return { parameters, problem: `Line ${index + 1}: ${key} is given twice.` };
    }
    parameters.push({ key, value: line.slice(separator + 1) });
  }
  return { parameters };
}

export function defaultsToText(parameters: readonly { key: string; value: string }[]): string {
  return parameters.map((parameter) => `${parameter.key}=${parameter.value}`).join('\n');
}
