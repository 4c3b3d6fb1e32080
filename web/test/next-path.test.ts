import { describe, expect, it } from 'vitest';
import { safeNextPath, signInQuery } from '../src/accounts/next-path';

describe('safeNextPath', () => {
  it.each(['/', '/tokens', '/tokens?organization=1#new', '/verify-email?token=a%2Bb', '/a/b/../c'])(
    'keeps the same-site path %s',
    (next) => {
      expect(safeNextPath(next)).toBe(
        new URL(next, 'http://x.invalid').href.slice('http://x.invalid'.length),
      );
    },
  );

  it('keeps query and fragment as given', () => {
    expect(safeNextPath('/tokens?a=1&b=2#c')).toBe('/tokens?a=1&b=2#c');
  });

  it.each([
    ['protocol-relative', '//evil.example/path'],
    ['protocol-relative with backslash', '/\\evil.example'],
    ['backslashes only', '\\\\evil.example'],
    ['absolute URL', 'https://evil.example/'],
    ['javascript: URL', 'javascript:alert(1)'],
    ['relative path', 'tokens'],
    ['empty', ''],
    ['tab inside the scheme-relative prefix', '/\t/evil.example'],
    ['newline', '/tokens\n/evil'],
    ['leading space', ' /tokens'],
  ])('refuses %s', (_label, next) => {
    expect(safeNextPath(next)).toBe('/');
  });

  it.each([undefined, null, 42, ['/tokens'], { path: '/tokens' }])('refuses the non-string %j', (next) => {
    expect(safeNextPath(next)).toBe('/');
  });
});

describe('signInQuery', () => {
  it('returns to the page after signing in', () => {
    expect(signInQuery('/tokens?x=1')).toEqual({ next: '/tokens?x=1' });
  });

  it('needs no next for the overview or for unsafe paths', () => {
    expect(signInQuery('/')).toEqual({});
    expect(signInQuery('//evil.example')).toEqual({});
  });
});
