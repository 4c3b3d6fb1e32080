const PLACEHOLDER = /Param::([A-Za-z0-9_.-]+)/g;

/** The `Param::<key>` placeholders a command uses, in order of first appearance. */
export function placeholderKeys(command: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const argument of command) {
    for (const match of argument.matchAll(PLACEHOLDER)) keys.add(match[1]!);
  }
  return [...keys];
}

/** Keys the command needs that neither the defaults nor the overrides supply. */
export function missingParameters(
  command: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  return placeholderKeys(command).filter((key) => !Object.hasOwn(values, key));
}

/**
 * Replaces every `Param::<key>` with its value. Callers check missingParameters
 * first (a submit with a missing key is refused), so a missing key here is a bug.
 */
export function substituteParameters(
  command: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  return command.map((argument) =>
    argument.replace(PLACEHOLDER, (_, key: string) => {
      if (!Object.hasOwn(values, key)) throw new Error(`No value for Param::${key}`);
      return values[key]!;
    }),
  );
}
