import { describe, expect, it } from 'vitest';
import { describeUserAgent } from '../src/accounts/user-agent';

describe('describeUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on Windows',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70',
      'Edge 131 on Windows',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
      'Safari 18 on macOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      'Safari 18 on iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome 131 on Android',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36',
      'Chrome 140 on Linux',
    ],
    ['curl/8.5.0', 'curl 8'],
  ])('puts %s in words', (userAgent, label) => {
    expect(describeUserAgent(userAgent)).toEqual({ label, full: userAgent });
  });

  it('shortens what it does not recognise, and has nothing for no user agent', () => {
    expect(describeUserAgent('daestro-cli/0.1')).toEqual({
      label: 'daestro-cli/0.1',
      full: 'daestro-cli/0.1',
    });
    const long = `SomeBot/1.0 ${'x'.repeat(100)}`;
    const described = describeUserAgent(long);
    expect(described?.label).toHaveLength(48);
    expect(described?.label.endsWith('…')).toBe(true);
    expect(described?.full).toBe(long);
    expect(describeUserAgent(null)).toBeUndefined();
    expect(describeUserAgent('  ')).toBeUndefined();
  });
});
