import { randomBytes } from 'node:crypto';
import { secretForms } from '../../server/src/secrets/log-masker.js';

/** A secret that must never be seen again: typed in by someone, or issued once by the server. */
export interface Canary {
  /** Where it went in: an input coordinate such as `SignUpInput.password`, or what issued it. */
  origin: string;
  value: string;
}

/** Text a sink holds (a response, an event, a table row, a log line) and where it came from. */
export interface Evidence {
  source: string;
  text: string;
}

export interface Leak {
  origin: string;
  /** `as is`, or the encoded form found (base64, URL-encoded, JSON-escaped…). */
  form: string;
  source: string;
}

/**
 * The canaries of one sweep and the scanner that looks for them. A canary is found
 * in any form the log masker knows (server/src/secrets/log-masker.ts): as is,
 * JSON-escaped, URL-encoded and base64 (standard and URL-safe, at each of the three
 * byte alignments), so an encoded copy is caught as surely as a plain one.
 */
export class CanarySet {
  readonly canaries: Canary[] = [];

  /**
   * A new random secret for `origin`: 29 characters with a `+` and a `/`, so its
   * URL-encoded and base64 forms differ from the value itself.
   */
  fresh(origin: string): string {
    return this.add(origin, `Cn+${randomBytes(18).toString('base64url')}/z`);
  }

  add(origin: string, value: string): string {
    this.canaries.push({ origin, value });
    return value;
  }

  findLeaks(evidence: Iterable<Evidence>): Leak[] {
    const needles = this.canaries.flatMap(({ origin, value }) =>
      secretForms(value).map((needle) => ({ origin, needle, form: needle === value ? 'as is' : needle })),
    );
    const leaks: Leak[] = [];
    for (const { source, text } of evidence) {
      for (const { origin, needle, form } of needles) {
        if (text.includes(needle)) leaks.push({ origin, form, source });
      }
    }
    return leaks;
  }
}
