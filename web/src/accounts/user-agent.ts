// A user agent in words for tables ("Firefox 133 on Linux"). Deliberately simple: a few patterns
// cover the browsers people use; anything else is shown as the start of the raw string.

const MAX_RAW_LENGTH = 48;

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: [name: string, pattern: RegExp][] = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\bOPR\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /\b(?:HeadlessChrome|Chrome|CriOS)\/(\d+)/],
  ['Safari', /\bVersion\/(\d+)(?:\.\d+)*.*\bSafari\//],
  ['curl', /^curl\/(\d+)/],
];

const SYSTEMS: [name: string, pattern: RegExp][] = [
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['Android', /\bAndroid\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Windows', /\bWindows\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['Linux', /\bLinux\b/],
];

export interface UserAgentDescription {
  /** "Firefox 133 on Linux", or the shortened raw string when it is not recognised. */
  label: string;
  /** The whole user agent, e.g. for a tooltip. */
  full: string;
}

export function describeUserAgent(userAgent: string | null | undefined): UserAgentDescription | undefined {
  const full = userAgent?.trim();
  if (!full) return undefined;
  const browser = BROWSERS.map(([name, pattern]) => ({ name, match: pattern.exec(full) })).find(
    ({ match }) => match,
  );
  const system = SYSTEMS.find(([, pattern]) => pattern.test(full))?.[0];
  if (!browser?.match) {
    return {
      label: full.length > MAX_RAW_LENGTH ? `${full.slice(0, MAX_RAW_LENGTH - 1)}…` : full,
      full,
    };
  }
  const name = `${browser.name} ${browser.match[1]}`;
  return { label: system ? `${name} on ${system}` : name, full };
}
