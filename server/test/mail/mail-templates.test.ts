import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  invitationMail,
  passwordResetMail,
  verificationMail,
  type RenderedMail,
} from '../../src/mail/mail.templates.js';

const HOSTILE = `<script>alert("x")</script> & 'friends'`;
const LINK = 'https://daestro.example.com/verify-email?token=abc123&next=%2Fjobs';

const rendered: [string, RenderedMail][] = [
  ['verification', verificationMail({ name: HOSTILE, link: LINK })],
  ['password reset', passwordResetMail({ name: HOSTILE, link: LINK })],
  ['invitation', invitationMail({ inviterName: HOSTILE, organizationName: HOSTILE, link: LINK })],
];

describe('mail templates', () => {
  it.each(rendered)('%s: escapes every interpolated value in the HTML part', (_kind, mail) => {
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain(`"x"`);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;');
  });

  it.each(rendered)('%s: carries the link in both parts, intact', (_kind, mail) => {
    expect(mail.text).toContain(`\n${LINK}\n`);
    expect(mail.html).toContain(`href="${LINK.replace('&', '&amp;')}"`);
    expect(mail.html).not.toContain(`href="${LINK}"`);
  });

  it.each(rendered)('%s: is a complete, labelled HTML document with a one-line subject', (_kind, mail) => {
    expect(mail.html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(mail.html).toMatch(/<title>[^<]+<\/title>/);
    expect(mail.html).toContain('<h1');
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('keeps line breaks in user-chosen names out of the subject (no header injection)', () => {
    const mail = invitationMail({
      inviterName: 'Ada\r\nBcc: victim@example.com',
      organizationName: 'Acme\n\nLabs',
      link: LINK,
    });
    expect(mail.subject).toBe('Ada Bcc: victim@example.com invited you to Acme Labs on Daestro');
  });

  it('addresses the person by name and says how long the link works when told', () => {
    const mail = passwordResetMail({ name: 'Ada', link: LINK, expiresInHours: 1 });
    expect(mail.subject).toBe('Reset your Daestro password');
    expect(mail.text).toMatch(/^Hello Ada,\n/);
    expect(mail.text).toContain('The link works once. It expires in 1 hour.');
    expect(verificationMail({ name: 'Ada', link: LINK, expiresInHours: 24 }).html).toContain(
      'It expires in 24 hours.',
    );
    expect(invitationMail({ inviterName: 'Ada', organizationName: 'Acme', link: LINK }).text).not.toMatch(
      /expires/,
    );
  });

  it.each(['/verify-email?token=abc', 'javascript:alert(1)', 'mailto:someone@example.com'])(
    'refuses a link that is not an absolute http(s) URL: %s',
    (link) => {
      expect(() => verificationMail({ name: 'Ada', link })).toThrow(/absolute http\(s\) URLs/);
    },
  );

  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
