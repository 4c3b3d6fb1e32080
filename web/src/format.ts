const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** "27 Nov 2026, 12:30" in the reader's locale and time zone. */
export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

/** "12:30:05" in the reader's locale and time zone. */
export function formatTime(iso: string): string {
  return timeFormat.format(new Date(iso));
}

/** The two largest units of a duration: "2 d 3 h", "3 h 12 min", "4 min 5 s", "12 s". */
export function formatDuration(totalSeconds: number): string {
  const units: [label: string, seconds: number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  let rest = Math.floor(totalSeconds);
  const parts: string[] = [];
  for (const [label, seconds] of units) {
    const count = Math.floor(rest / seconds);
    rest -= count * seconds;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${label}`);
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0 s';
}
