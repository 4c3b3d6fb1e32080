import { describe, expect, it } from 'vitest';
import {
  passwordStrength,
  validateChangeEmail,
  validateChangePassword,
  validateEmailOnly,
  validateNewPassword,
  validateOAuthSignUp,
  validateOrganizationName,
  validateProfile,
  validateSignIn,
  validateSignUp,
  type SignUpForm,
} from '../src/accounts/validation';

const valid: SignUpForm = {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  password: 'copper kettle morning tide',
  ageConfirmed: true,
  policyAccepted: true,
};

describe('validateSignUp', () => {
  it('accepts a complete form', () => {
    expect(validateSignUp(valid)).toEqual({});
  });

  it('names every missing field at once', () => {
    const errors = validateSignUp({
      name: ' ',
      email: '',
      password: '',
      ageConfirmed: false,
      policyAccepted: false,
    });
    expect(Object.keys(errors).sort()).toEqual([
      'ageConfirmed',
      'email',
      'name',
      'password',
      'policyAccepted',
    ]);
    expect(errors.ageConfirmed).toMatch(/16 or older/);
    expect(errors.policyAccepted).toMatch(/privacy policy/);
  });

  it('follows the server: 10 to 256 characters for passwords', () => {
    expect(validateSignUp({ ...valid, password: '123456789' }).password).toBe('Use at least 10 characters.');
    expect(validateSignUp({ ...valid, password: 'x'.repeat(10) }).password).toBeUndefined();
    expect(validateSignUp({ ...valid, password: 'x'.repeat(256) }).password).toBeUndefined();
    expect(validateSignUp({ ...valid, password: 'x'.repeat(257) }).password).toBe(
      'Use at most 256 characters.',
    );
  });

  it.each(['ada', 'ada@', '@example.com', 'ada@example', 'ada @example.com'])(
    'refuses the email %j',
    (email) => {
      expect(validateSignUp({ ...valid, email }).email).toBe('Enter an email address like name@example.com.');
    },
  );

  it('ignores spaces around the email and name', () => {
    expect(validateSignUp({ ...valid, email: '  ada@example.com ', name: ' Ada ' })).toEqual({});
  });

  it('limits names to 100 characters', () => {
    expect(validateSignUp({ ...valid, name: 'a'.repeat(101) }).name).toBe('Use at most 100 characters.');
  });
});

describe('the other forms', () => {
  it('sign-in needs an email and a password, and leaves their rules to the server', () => {
    expect(validateSignIn({ email: '', password: '' })).toEqual({
      email: 'Enter your email address.',
      password: 'Enter your password.',
    });
    expect(validateSignIn({ email: 'a@b.c', password: 'short' })).toEqual({});
  });

  it('forgot-password checks the address', () => {
    expect(validateEmailOnly('')).toEqual({ email: 'Enter your email address.' });
    expect(validateEmailOnly('a@b.co')).toEqual({});
  });

  it('a new password must be long enough and typed twice the same', () => {
    expect(validateNewPassword({ password: 'short', confirmation: 'short' })).toEqual({
      password: 'Use at least 10 characters.',
    });
    expect(validateNewPassword({ password: 'long enough now', confirmation: 'long enough now!' })).toEqual({
      confirmation: 'The two passwords differ; type the same one twice.',
    });
    expect(validateNewPassword({ password: 'long enough now', confirmation: 'long enough now' })).toEqual({});
  });
});

describe('passwordStrength', () => {
  it('calls anything under 10 characters too short', () => {
    expect(passwordStrength('Xy7!kq2#').score).toBe(0);
    expect(passwordStrength('Xy7!kq2#').label).toBe('Too short');
  });

  it.each([
    ['a common word', 'password123456'],
    ['a keyboard run', 'qwertyuiop!!'],
    ['a digit run', 'zq9876543x1!'],
    ['repeats', 'aaaaaaaaaaaaaaa'],
    ['ten lowercase letters', 'kdjwmqpzla'],
  ])('calls %s weak', (_label, password) => {
    expect(passwordStrength(password).score).toBe(1);
  });

  it("counts the person's own name and email against the password", () => {
    const personal = ['Ada Lovelace', 'ada.lovelace@example.com'];
    expect(passwordStrength('lovelace-rocks-2026', personal)).toMatchObject({
      score: 1,
      advice: 'Leave out your name and email address.',
    });
    expect(passwordStrength('lovelace-rocks-2026').score).toBeGreaterThan(1);
  });

  it('rates length and variety higher', () => {
    expect(passwordStrength('mqpz7kdw3x').score).toBeLessThan(passwordStrength('mqpz7kdw3xJ!vb').score);
    expect(passwordStrength('copper kettle morning tide')).toMatchObject({
      score: 4,
      label: 'Strong',
      advice: '',
    });
  });
});

describe('account forms', () => {
  it('asks a new person from GitHub or Google for a name and both consents', () => {
    expect(validateOAuthSignUp({ name: 'Grace', ageConfirmed: true, policyAccepted: true })).toEqual({});
    expect(
      Object.keys(validateOAuthSignUp({ name: ' ', ageConfirmed: false, policyAccepted: false })).sort(),
    ).toEqual(['ageConfirmed', 'name', 'policyAccepted']);
  });

  it('checks a new name like sign-up does', () => {
    expect(validateProfile({ name: ' Ada ' })).toEqual({});
    expect(validateProfile({ name: '' })).toEqual({ name: 'Enter your name.' });
    expect(validateProfile({ name: 'x'.repeat(101) })).toEqual({ name: 'Use at most 100 characters.' });
  });

  it('needs the current password and a new one typed twice to change the password', () => {
    const form = { currentPassword: 'old', password: 'copper kettle morning tide', confirmation: '' };
    expect(validateChangePassword(form)).toEqual({
      confirmation: 'The two passwords differ; type the same one twice.',
    });
    expect(validateChangePassword({ ...form, currentPassword: '', confirmation: form.password })).toEqual({
      currentPassword: 'Enter your current password.',
    });
  });

  it('needs a different address and the current password to change the email address', () => {
    expect(
      validateChangeEmail({ email: 'new@example.com', currentPassword: 'x' }, 'ada@example.com'),
    ).toEqual({});
    expect(
      validateChangeEmail({ email: 'ADA@example.com ', currentPassword: '' }, 'ada@example.com'),
    ).toEqual({
      email: 'This is already your email address.',
      currentPassword: 'Enter your current password.',
    });
    expect(validateChangeEmail({ email: 'nope', currentPassword: 'x' }, 'ada@example.com').email).toBe(
      'Enter an email address like name@example.com.',
    );
  });

  it('needs a name for a new organization', () => {
    expect(validateOrganizationName(' Acme ')).toEqual({});
    expect(validateOrganizationName('  ').name).toMatch(/^Name the organization/);
    expect(validateOrganizationName('x'.repeat(101)).name).toBe('Use at most 100 characters.');
  });
});
