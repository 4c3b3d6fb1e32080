import { UserError } from '../graphql/errors.js';

/**
 * Checks every workload input shares: each failure is a BAD_USER_INPUT naming
 * the input `field` and saying what would be accepted. Names: resource-name.ts.
 */
export function checkRange(
  value: number,
  range: { min: number; max: number },
  field: string,
  unit = '',
): number {
  if (!Number.isFinite(value) || value < range.min || value > range.max) {
    const suffix = unit ? ` ${unit}` : '';
    throw UserError.badUserInput(
      `${field} must be from ${range.min} to ${range.max}${suffix}; got ${value}.`,
      {
        field,
      },
    );
  }
  return value;
}

export function checkInteger(
  value: number,
  range: { min: number; max: number },
  field: string,
  unit = '',
): number {
  if (!Number.isInteger(value)) {
    throw UserError.badUserInput(`${field} must be a whole number; got ${value}.`, { field });
  }
  return checkRange(value, range, field, unit);
}

/** Trimmed text that must not be empty; `max` counts characters. */
export function checkText(value: string, field: string, options: { max: number; what?: string }): string {
  const text = value.trim();
  if (text.length === 0)
    throw UserError.badUserInput(`${options.what ?? field} must not be empty.`, { field });
  if (text.length > options.max) {
    throw UserError.badUserInput(`${options.what ?? field} is too long: at most ${options.max} characters.`, {
      field,
    });
  }
  return text;
}

/** Names that must be unique in a list (env vars, parameter keys, linked environments). */
export function checkUnique(values: readonly string[], field: string, what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) throw UserError.badUserInput(`${what} "${value}" is given twice.`, { field });
    seen.add(value);
  }
}

/** `%` and `_` match literally in a name search. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
