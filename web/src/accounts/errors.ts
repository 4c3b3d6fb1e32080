// Turns an operation's errors into what a form shows: messages next to the fields they name,
// everything else above the form. The server writes its messages for people; they are shown as is.

/** The parts of urql's CombinedError this needs, so it can be tested without a client. */
export interface OperationErrorLike {
  graphQLErrors: readonly { message: string; extensions?: Record<string, unknown> }[];
  networkError?: Error;
}

export interface ShownErrors<Field extends string> {
  fields: Partial<Record<Field, string>>;
  /** Messages that name no field of this form. */
  general: string[];
}

export const NETWORK_ERROR_MESSAGE =
  'Could not reach the Daestro server. Check your connection and try again.';

/** "input.email" and "email" both name the email field. */
function fieldName(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/**
 * Sorts errors by field. `extensions.field` names one field; `extensions.fields` maps fields to
 * lists of messages (the server's validation errors). `aliases` maps a server field to the form's
 * (e.g. newPassword → password); fields the form does not have go to `general`.
 */
export function showErrors<Field extends string>(
  error: OperationErrorLike | undefined,
  formFields: readonly Field[],
  aliases: Record<string, Field> = {},
): ShownErrors<Field> {
  const shown: ShownErrors<Field> = { fields: {}, general: [] };
  if (!error) return shown;
  const known = (name: string): Field | undefined => {
    const field = aliases[name] ?? name;
    return (formFields as readonly string[]).includes(field) ? (field as Field) : undefined;
  };
  const addGeneral = (message: string) => {
    if (!shown.general.includes(message)) shown.general.push(message);
  };

  for (const graphQLError of error.graphQLErrors) {
    const extensions = graphQLError.extensions ?? {};
    const perField = extensions.fields;
    if (perField && typeof perField === 'object') {
      for (const [path, messages] of Object.entries(perField as Record<string, unknown>)) {
        const text = (Array.isArray(messages) ? messages : [messages]).map(String).join(' ');
        const field = known(fieldName(path));
        if (field && !shown.fields[field]) shown.fields[field] = text;
        else if (!field) addGeneral(text);
      }
      continue;
    }
    const field = typeof extensions.field === 'string' ? known(fieldName(extensions.field)) : undefined;
    if (field && !shown.fields[field]) shown.fields[field] = graphQLError.message;
    else addGeneral(graphQLError.message);
  }
  if (error.networkError && error.graphQLErrors.length === 0) addGeneral(NETWORK_ERROR_MESSAGE);
  return shown;
}

/** One line for errors outside forms (a list that failed to load, a button that failed). */
export function errorMessage(error: OperationErrorLike): string {
  const messages = error.graphQLErrors.map((graphQLError) => graphQLError.message);
  if (messages.length > 0) return [...new Set(messages)].join(' ');
  return NETWORK_ERROR_MESSAGE;
}

/** Whether any of the errors carries this `extensions.code` (UNAUTHENTICATED, FORBIDDEN…). */
export function hasErrorCode(error: OperationErrorLike | undefined, code: string): boolean {
  return !!error?.graphQLErrors.some((graphQLError) => graphQLError.extensions?.code === code);
}
