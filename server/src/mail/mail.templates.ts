/** A rendered message: both parts say the same thing, for any mail client. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface VerificationMailInput {
  name: string;
  /** Absolute http(s) link that verifies the address, built from PUBLIC_URL. */
  link: string;
  /** How long the link works, when it expires. */
  expiresInHours?: number;
}

export interface PasswordResetMailInput {
  name: string;
  /** Absolute http(s) link to the reset page, built from PUBLIC_URL. */
  link: string;
  expiresInHours?: number;
}

export interface InvitationMailInput {
  inviterName: string;
  organizationName: string;
  /** Absolute http(s) link that accepts the invitation, built from PUBLIC_URL. */
  link: string;
  expiresInHours?: number;
}

export function verificationMail(input: VerificationMailInput): RenderedMail {
  const link = absoluteLink(input.link);
  const name = oneLine(input.name);
  const expiry = expiryNote(input.expiresInHours);
  return {
    subject: 'Verify your email address for Daestro',
    text: lines(
      `Hello ${name},`,
      '',
      'Open this link to confirm that this address is yours:',
      link,
      '',
      `The link works once.${expiry}`,
      'If you did not sign up for Daestro, ignore this message: nothing happens until the link is opened.',
    ),
    html: htmlDocument('Verify your email address', [
      paragraph(`Hello ${escapeHtml(name)},`),
      paragraph('Open this link to confirm that this address is yours:'),
      button(link, 'Verify my email address'),
      paragraph(`The link works once.${escapeHtml(expiry)}`),
      paragraph(
        'If you did not sign up for Daestro, ignore this message: nothing happens until the link is opened.',
      ),
    ]),
  };
}

export function passwordResetMail(input: PasswordResetMailInput): RenderedMail {
  const link = absoluteLink(input.link);
  const name = oneLine(input.name);
  const expiry = expiryNote(input.expiresInHours);
  return {
    subject: 'Reset your Daestro password',
    text: lines(
      `Hello ${name},`,
      '',
      'Someone asked to reset the password of your Daestro account. Open this link to choose a new one:',
      link,
      '',
      `The link works once.${expiry}`,
      'If it was not you, ignore this message: your password stays as it is.',
    ),
    html: htmlDocument('Reset your password', [
      paragraph(`Hello ${escapeHtml(name)},`),
      paragraph(
        'Someone asked to reset the password of your Daestro account. Open this link to choose a new one:',
      ),
      button(link, 'Choose a new password'),
      paragraph(`The link works once.${escapeHtml(expiry)}`),
      paragraph('If it was not you, ignore this message: your password stays as it is.'),
    ]),
  };
}

export function invitationMail(input: InvitationMailInput): RenderedMail {
  const link = absoluteLink(input.link);
  const inviter = oneLine(input.inviterName);
  const organization = oneLine(input.organizationName);
  const expiry = expiryNote(input.expiresInHours);
  return {
    subject: `${inviter} invited you to ${organization} on Daestro`,
    text: lines(
      `${inviter} invited you to join the organization "${organization}" on Daestro.`,
      '',
      'Open this link to accept:',
      link,
      '',
      expiry.trim(),
      'If you did not expect this invitation, ignore this message.',
    ),
    html: htmlDocument('You are invited', [
      paragraph(
        `${escapeHtml(inviter)} invited you to join the organization <strong>${escapeHtml(organization)}</strong> on Daestro.`,
      ),
      button(link, 'Accept the invitation'),
      expiry ? paragraph(escapeHtml(expiry.trim())) : '',
      paragraph('If you did not expect this invitation, ignore this message.'),
    ]),
  };
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Links come from our own PUBLIC_URL, but a relative or `javascript:` link would
 * be a bug that turns into a broken or dangerous button, so refuse it here.
 */
function absoluteLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new Error('mail links must be absolute http(s) URLs built from PUBLIC_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('mail links must be absolute http(s) URLs built from PUBLIC_URL');
  }
  return url.href;
}

/** User-chosen names go into the subject and single lines: no line breaks, no runs of spaces. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

function expiryNote(hours: number | undefined): string {
  if (hours === undefined) return '';
  return hours === 1 ? ' It expires in 1 hour.' : ` It expires in ${hours} hours.`;
}

function lines(...parts: string[]): string {
  return `${parts.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function paragraph(html: string): string {
  return `<p style="margin:0 0 16px">${html}</p>`;
}

/** A link styled as a button, with the address spelled out for clients that hide links. */
function button(link: string, label: string): string {
  const href = escapeHtml(link);
  return (
    `<p style="margin:0 0 16px"><a href="${href}" style="display:inline-block;padding:10px 18px;` +
    `background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">` +
    `${escapeHtml(label)}</a></p>` +
    `<p style="margin:0 0 16px;font-size:13px;color:#374151">Or paste this address into your browser:<br>` +
    `<a href="${href}" style="color:#1d4ed8;word-break:break-all">${href}</a></p>`
  );
}

/** Plain, accessible HTML: a language, a title, one heading, no images or tracking. */
function htmlDocument(title: string, body: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#ffffff;color:#111827;' +
      'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto">',
    `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(title)}</h1>`,
    ...body.filter(Boolean),
    '<p style="margin:24px 0 0;font-size:13px;color:#4b5563">Daestro</p>',
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
