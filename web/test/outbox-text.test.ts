import { describe, expect, it } from 'vitest';
import { linkifyText } from '../src/accounts/outbox-text';

const origin = 'http://127.0.0.1:4000';

describe('linkifyText', () => {
  it('links addresses of this dashboard, keeping the text around them', () => {
    const text = `Hello Ada,\n\nOpen this link:\n${origin}/verify-email?token=abc-123%2B\n\nThanks.\n`;
    expect(linkifyText(text, origin)).toEqual([
      { kind: 'text', text: 'Hello Ada,\n\nOpen this link:\n' },
      {
        kind: 'link',
        text: `${origin}/verify-email?token=abc-123%2B`,
        path: '/verify-email?token=abc-123%2B',
      },
      { kind: 'text', text: '\n\nThanks.\n' },
    ]);
  });

  it('leaves sentence punctuation out of the link', () => {
    const segments = linkifyText(`Go to ${origin}/account.`, origin);
    expect(segments[1]).toEqual({ kind: 'link', text: `${origin}/account`, path: '/account' });
    expect(segments[2]).toEqual({ kind: 'text', text: '.' });
  });

  it.each([
    ['another site', 'https://evil.example/verify-email?token=x'],
    ['another port', 'http://127.0.0.1:4001/verify-email'],
    ['another scheme', 'https://127.0.0.1:4000/verify-email'],
    ['a look-alike host', 'http://127.0.0.1:4000.evil.example/verify-email'],
    ['credentials before the host', 'http://127.0.0.1:4000@evil.example/'],
    ['a user name on our host', 'http://user:pass@127.0.0.1:4000/'],
  ])('keeps a link to %s as plain text', (_label, address) => {
    const text = `Open ${address} now`;
    expect(linkifyText(text, origin)).toEqual([{ kind: 'text', text }]);
  });

  it('never makes javascript: or data: addresses links', () => {
    const text = 'javascript:alert(1) data:text/html,<b>x</b>';
    expect(linkifyText(text, origin)).toEqual([{ kind: 'text', text }]);
  });

  it('handles several links and text without any', () => {
    expect(linkifyText(`${origin}/a ${origin}/b`, origin).map((segment) => segment.kind)).toEqual([
      'link',
      'text',
      'link',
    ]);
    expect(linkifyText('', origin)).toEqual([]);
    expect(linkifyText('plain', origin)).toEqual([{ kind: 'text', text: 'plain' }]);
  });
});
