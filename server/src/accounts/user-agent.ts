import { UAParser } from 'ua-parser-js';

/** Browser, OS and device in words, e.g. { browser: 'Firefox 133', os: 'Ubuntu', device: 'Desktop' }. */
export interface DeviceDescription {
  browser: string;
  os: string;
  device: string;
}

export function describeUserAgent(userAgent: string | undefined): DeviceDescription {
  if (!userAgent) return { browser: 'Unknown browser', os: 'Unknown OS', device: 'Unknown device' };
  const { browser, os, device } = new UAParser(userAgent).getResult();
  const join = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ');
  return {
    browser: join(browser.name, browser.major) || userAgent.split(' ')[0] || 'Unknown browser',
    os: join(os.name, os.version) || 'Unknown OS',
    // ua-parser leaves device.type empty for desktops.
    device: device.type ? join(device.vendor, device.model) || device.type : 'Desktop',
  };
}
