import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LogMasker,
  MASK,
  MIN_MASKED_SECRET_LENGTH,
  maskSecrets,
  secretForms,
} from '../../src/secrets/log-masker.js';

// The encodings a log may carry a secret in, written independently of the masker.
const ENCODINGS: Record<string, (secret: string) => string> = {
  raw: (secret) => secret,
  json: (secret) => JSON.stringify(secret).slice(1, -1),
  url: (secret) => encodeURIComponent(secret),
  form: (secret) => new URLSearchParams({ v: secret }).toString().slice(2),
};

/** Base64 of `before + secret + after`, and the part of it that only the secret's bits decide. */
function embeddedBase64(secret: string, before: Uint8Array, after: Uint8Array) {
  const bytes = Buffer.from(secret, 'utf8');
  const encoded = Buffer.concat([before, bytes, after]).toString('base64');
  const inner = encoded.slice(
    Math.ceil((before.length * 8) / 6),
    Math.floor(((before.length + bytes.length) * 8) / 6),
  );
  return { encoded, inner };
}

/** Streams `text` through a masker in pieces cut at `cuts` (any numbers, folded into the text's length). */
function maskInChunks(text: string, secrets: string[], cuts: number[]): string {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const masker = new LogMasker(secrets);
  let output = '';
  let previous = 0;
  for (const point of [...points, text.length]) {
    output += masker.push(text.slice(previous, point));
    previous = point;
  }
  return output + masker.end();
}

// Secrets are drawn from characters that no encoding of a secret ever produces in
// the filler and vice versa, so each inserted secret is exactly one masked region
// and every filler character must come out untouched. `*` is left out of secrets:
// a secret containing `***` could be re-formed by the mask itself.
const SECRET_CHARACTERS = [...'abcxyzABCXYZ0189', ...`-_.~!'()"\\/+=%`, ' ', '\n', '\t', 'é', '€', '😀'];
const FILLER_CHARACTERS = [...' ,;:?[]{}<>|#@$^&', 'ß', '→', '\u00a0'];

const secretArbitrary = fc
  .string({ unit: fc.constantFrom(...SECRET_CHARACTERS), minLength: MIN_MASKED_SECRET_LENGTH, maxLength: 40 })
  .filter((secret) => secret.length >= MIN_MASKED_SECRET_LENGTH);
const fillerArbitrary = fc.string({
  unit: fc.constantFrom(...FILLER_CHARACTERS),
  minLength: 1,
  maxLength: 30,
});
const cutsArbitrary = fc.array(fc.nat(), { maxLength: 30 });

describe('LogMasker', () => {
  it('masks secrets in every encoding, with any chunking, and leaves all other text as it was', () => {
    fc.assert(
      fc.property(
        fc.array(secretArbitrary, { minLength: 1, maxLength: 10 }),
        fc.array(
          fc.record({
            filler: fillerArbitrary,
            secret: fc.option(
              fc.record({ index: fc.nat(), encoding: fc.constantFrom(...Object.keys(ENCODINGS)) }),
            ),
          }),
          { maxLength: 12 },
        ),
        fillerArbitrary,
        cutsArbitrary,
        (secrets, pieces, tail, cuts) => {
          let text = '';
          let expected = '';
          for (const { filler, secret } of pieces) {
            text += filler;
            expected += filler;
            if (secret) {
              text += ENCODINGS[secret.encoding]!(secrets[secret.index % secrets.length]!);
              expected += MASK;
            }
          }
          text += tail;
          expected += tail;
          expect(maskInChunks(text, secrets, cuts)).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('masks a secret inside longer base64 at every alignment, with any chunking', () => {
    fc.assert(
      fc.property(
        secretArbitrary,
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.boolean(),
        fillerArbitrary,
        cutsArbitrary,
        (secret, before, after, urlSafe, filler, cuts) => {
          const { encoded, inner } = embeddedBase64(secret, before, after);
          const alphabet = (text: string) =>
            urlSafe ? text.replaceAll('+', '-').replaceAll('/', '_') : text;
          const output = maskInChunks(`${filler}${alphabet(encoded)}${filler}`, [secret], cuts);
          expect(output).not.toContain(alphabet(inner));
          expect(output).toContain(MASK);
          expect(output.startsWith(filler) && output.endsWith(filler)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lets no secret or encoding through in arbitrary text, and gives the same output however the text is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(secretArbitrary, { minLength: 1, maxLength: 10 }),
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.nat()), { maxLength: 15 }),
        cutsArbitrary,
        (secrets, parts, cuts) => {
          // Numbers pick a secret and an encoding to insert; strings are arbitrary Unicode text.
          const encodings = Object.values(ENCODINGS);
          const text = parts
            .map((part) =>
              typeof part === 'string'
                ? part
                : encodings[part % encodings.length]!(
                    secrets[Math.floor(part / encodings.length) % secrets.length]!,
                  ),
            )
            .join('');
          const whole = maskSecrets(text, secrets);
          expect(maskInChunks(text, secrets, cuts)).toBe(whole);
          for (const secret of secrets) {
            for (const encode of encodings) expect(whole).not.toContain(encode(secret));
            for (const offset of [0, 1, 2]) {
              const { inner } = embeddedBase64(secret, new Uint8Array(offset), new Uint8Array());
              expect(whole).not.toContain(inner);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changes nothing in arbitrary text that holds no form of a secret', () => {
    fc.assert(
      fc.property(
        fc.array(secretArbitrary, { maxLength: 10 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        cutsArbitrary,
        (secrets, text, cuts) => {
          fc.pre(secrets.flatMap(secretForms).every((form) => !text.includes(form)));
          expect(maskInChunks(text, secrets, cuts)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('masks a multi-line key printed whole, line by line, with CRLF line ends, and JSON-escaped', () => {
    const key = [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACDv0Ld1bQv2wQhF4s0S9p3x1qk2c5p6Qm7Xf0lH6Y3sNwAAAJh3fYgCd32I',
      '-----END OPENSSH PRIVATE KEY-----',
    ].join('\n');
    const lines = key.split('\n');
    const masker = new LogMasker([key]);
    let output = masker.push(`key:\n${key.slice(0, 50)}`);
    output += masker.push(`${key.slice(50)}\nagain: ${lines.join('\r\n')}\n`);
    output += masker.push(`{"key":${JSON.stringify(key)}}\n`);
    output += masker.end();
    for (const line of lines) expect(output).not.toContain(line);
    expect(output).toBe(`key:\n${MASK}\nagain: ${lines.map(() => MASK).join('\r\n')}\n{"key":"${MASK}"}\n`);
  });

  it('masks a password inside an HTTP Basic authorization header', () => {
    const header = `Authorization: Basic ${Buffer.from('deploy:s3cr3t-Pa55word').toString('base64')}`;
    const output = maskSecrets(header, ['s3cr3t-Pa55word']);
    expect(output).toMatch(/^Authorization: Basic ZGVwbG95O.\*\*\*/);
  });

  it(`leaves values shorter than ${MIN_MASKED_SECRET_LENGTH} characters alone`, () => {
    expect(maskSecrets('yes, abc and 123 stay; abcd goes', ['yes', 'abc', '123', 'abcd'])).toBe(
      'yes, abc and 123 stay; *** goes',
    );
  });

  it('holds back only a tail that could still start a secret', () => {
    const masker = new LogMasker(['hunter2-secret']);
    expect(masker.push('starting up\n')).toBe('starting up\n');
    expect(masker.push('password is hunt')).toBe('password is ');
    expect(masker.push('er2-sec')).toBe('');
    expect(masker.push('ret, ok')).toBe('***, ok');
    expect(masker.push(' hunting')).toBe(' hunting');
    expect(masker.end()).toBe('');
  });

  it('masks a run of overlapping occurrences as one, returning it early and holding back little', () => {
    const masker = new LogMasker(['abab']);
    expect(masker.push('x ababab')).toBe(`x ${MASK}`);
    for (let i = 0; i < 10_000; i += 1) expect(masker.push('ab')).toBe('');
    expect(masker.push('a y')).toBe('a y');
    expect(masker.end()).toBe('');
  });

  it('is usable again after end()', () => {
    const masker = new LogMasker(['token-1234']);
    expect(masker.push('token-12') + masker.end()).toBe('token-12');
    expect(masker.push('34 token-1234') + masker.end()).toBe(`34 ${MASK}`);
  });
});
