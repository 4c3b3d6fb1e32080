// Form checks run before a request is sent, so mistakes show at once and next to their field.
// The server checks everything again; its messages are shown the same way (see errors.ts).

/** Mirrors the server's rule for passwords (SignUpInput.password, ResetPasswordInput.newPassword). */
export const PASSWORD_LENGTH = { min: 10, max: 256 } as const;
const NAME_MAX_LENGTH = 100;
const EMAIL_MAX_LENGTH = 254;

/** Field name → message, for the fields that have a problem. */
export type FieldErrors<Field extends string> = Partial<Record<Field, string>>;

export interface SignUpForm {
  name: string;
  email: string;
  password: string;
  ageConfirmed: boolean;
  policyAccepted: boolean;
}

export interface SignInForm {
  email: string;
  password: string;
}

export interface NewPasswordForm {
  password: string;
  confirmation: string;
}

/** Deliberately loose: one "@" with something either side and a dot in the domain. The server decides. */
function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

function emailProblem(raw: string): string | undefined {
  const email = raw.trim();
  if (!email) return 'Enter your email address.';
  if (email.length > EMAIL_MAX_LENGTH || !looksLikeEmail(email)) {
    return 'Enter an email address like name@example.com.';
  }
  return undefined;
}

export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_LENGTH.min) return `Use at least ${PASSWORD_LENGTH.min} characters.`;
  if (password.length > PASSWORD_LENGTH.max) return `Use at most ${PASSWORD_LENGTH.max} characters.`;
  return undefined;
}

function withoutEmpty<Field extends string>(errors: Record<Field, string | undefined>): FieldErrors<Field> {
  return Object.fromEntries(Object.entries(errors).filter(([, message]) => message)) as FieldErrors<Field>;
}

function nameProblem(raw: string): string | undefined {
  const name = raw.trim();
  if (!name) return 'Enter your name.';
  if (name.length > NAME_MAX_LENGTH) return `Use at most ${NAME_MAX_LENGTH} characters.`;
  return undefined;
}

export interface ConsentForm {
  ageConfirmed: boolean;
  policyAccepted: boolean;
}

/** The two boxes every new account ticks, with a password or with GitHub or Google. */
export function validateConsent(form: ConsentForm): FieldErrors<keyof ConsentForm> {
  return withoutEmpty({
    ageConfirmed: form.ageConfirmed ? undefined : 'Daestro is for people aged 16 or older; confirm your age.',
    policyAccepted: form.policyAccepted ? undefined : 'Read and accept the privacy policy to continue.',
  });
}

export function validateSignUp(form: SignUpForm): FieldErrors<keyof SignUpForm> {
  return {
    ...withoutEmpty({
      name: nameProblem(form.name),
      email: emailProblem(form.email),
      password: passwordProblem(form.password),
    }),
    ...validateConsent(form),
  };
}

/** The page after a first sign-in with GitHub or Google: the name is prefilled and may be changed. */
export function validateOAuthSignUp(
  form: ConsentForm & { name: string },
): FieldErrors<'name' | keyof ConsentForm> {
  return { ...withoutEmpty({ name: nameProblem(form.name) }), ...validateConsent(form) };
}

export function validateProfile(form: { name: string }): FieldErrors<'name'> {
  return withoutEmpty({ name: nameProblem(form.name) });
}

export interface ChangePasswordForm extends NewPasswordForm {
  currentPassword: string;
}

export function validateChangePassword(form: ChangePasswordForm): FieldErrors<keyof ChangePasswordForm> {
  return {
    ...withoutEmpty({ currentPassword: form.currentPassword ? undefined : 'Enter your current password.' }),
    ...validateNewPassword(form),
  };
}

export interface ChangeEmailForm {
  email: string;
  currentPassword: string;
}

export function validateChangeEmail(
  form: ChangeEmailForm,
  currentEmail: string,
): FieldErrors<keyof ChangeEmailForm> {
  const problem = emailProblem(form.email);
  return withoutEmpty({
    email:
      problem ??
      (form.email.trim().toLowerCase() === currentEmail.toLowerCase()
        ? 'This is already your email address.'
        : undefined),
    currentPassword: form.currentPassword ? undefined : 'Enter your current password.',
  });
}

/** Names of organizations (CreateOrganizationInput.name: 1 to 100 characters). */
export function validateOrganizationName(name: string): FieldErrors<'name'> {
  const trimmed = name.trim();
  return withoutEmpty({
    name: !trimmed
      ? 'Name the organization, e.g. after your team or company.'
      : trimmed.length > NAME_MAX_LENGTH
        ? `Use at most ${NAME_MAX_LENGTH} characters.`
        : undefined,
  });
}

export function validateSignIn(form: SignInForm): FieldErrors<keyof SignInForm> {
  return withoutEmpty({
    email: form.email.trim() ? undefined : 'Enter your email address.',
    password: form.password ? undefined : 'Enter your password.',
  });
}

export function validateEmailOnly(email: string): FieldErrors<'email'> {
  return withoutEmpty({ email: emailProblem(email) });
}

export function validateNewPassword(form: NewPasswordForm): FieldErrors<keyof NewPasswordForm> {
  return withoutEmpty({
    password: passwordProblem(form.password),
    confirmation:
      form.confirmation === form.password ? undefined : 'The two passwords differ; type the same one twice.',
  });
}

export interface PasswordStrength {
  /** 0 (unusable) to 4. */
  score: 0 | 1 | 2 | 3 | 4;
  label: 'Too short' | 'Weak' | 'Fair' | 'Good' | 'Strong';
  /** What would make it stronger; empty when nothing needs saying. */
  advice: string;
}

const SEQUENCES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const COMMON_WORDS = ['password', 'passwort', 'letmein', 'welcome', 'daestro', 'iloveyou', 'admin', 'qwerty'];

/** Runs of 4+ characters that follow a keyboard or alphabet sequence, forwards or backwards. */
function containsSequence(lower: string): boolean {
  for (let start = 0; start + 4 <= lower.length; start++) {
    const run = lower.slice(start, start + 4);
    const reversed = [...run].reverse().join('');
    if (SEQUENCES.some((sequence) => sequence.includes(run) || sequence.includes(reversed))) return true;
  }
  return false;
}

/** Parts of the person's name and email address long enough to matter ("ada", "lovelace", "example"). */
function personalWords(personal: readonly string[]): string[] {
  return personal
    .flatMap((value) => value.toLowerCase().split(/[^\p{L}\p{N}]+/u))
    .filter((word) => word.length >= 3);
}

/**
 * A rough, dependency-free estimate to guide the person while they type; not a security check.
 * Length counts most; common words, sequences, repeats and the person's own name count against it.
 */
export function passwordStrength(password: string, personal: readonly string[] = []): PasswordStrength {
  if (password.length < PASSWORD_LENGTH.min) {
    return { score: 0, label: 'Too short', advice: `Use at least ${PASSWORD_LENGTH.min} characters.` };
  }
  const lower = password.toLowerCase();
  if (personalWords(personal).some((word) => lower.includes(word))) {
    return { score: 1, label: 'Weak', advice: 'Leave out your name and email address.' };
  }
  if (COMMON_WORDS.some((word) => lower.includes(word)) || containsSequence(lower)) {
    return { score: 1, label: 'Weak', advice: 'Avoid common words and sequences like 1234 or qwerty.' };
  }

  let pool = 0;
  if (/[a-z]/.test(password)) pool += 26;
  if (/[A-Z]/.test(password)) pool += 26;
  if (/[0-9]/.test(password)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(password)) pool += 33;
  // Repeats ("aaaaaaaaaa", "abababab") add length but little surprise.
  const distinct = new Set(password).size;
  const effectiveLength = Math.min(password.length, distinct * 2);
  const bits = effectiveLength * Math.log2(pool);

  if (bits < 50) {
    return { score: 1, label: 'Weak', advice: 'Make it longer: a few unrelated words work well.' };
  }
  if (bits < 65) return { score: 2, label: 'Fair', advice: 'Longer is stronger: add another word.' };
  if (bits < 80) return { score: 3, label: 'Good', advice: '' };
  return { score: 4, label: 'Strong', advice: '' };
}
