/**
 * A PostgreSQL array literal of arbitrary values, for `?::<type>[]` bindings
 * (MikroORM spreads a JS array binding into a list of parameters, so arrays go
 * as one literal). Every element is quoted, so commas, braces, quotes,
 * backslashes and line breaks in text survive; null becomes NULL.
 */
export function pgArrayLiteral(values: readonly (string | number | Date | null)[]): string {
  const elements = values.map((value) => {
    if (value === null) return 'NULL';
    const text = value instanceof Date ? value.toISOString() : String(value);
    return `"${text.replace(/[\\"]/g, '\\$&')}"`;
  });
  return `{${elements.join(',')}}`;
}
