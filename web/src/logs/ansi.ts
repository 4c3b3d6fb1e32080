// A log line's ANSI escape codes turned into styled text segments. The segments are plain data that
// the viewer renders with text interpolation, so a line's text never becomes HTML, whatever it holds.
import Anser from 'anser';

export interface AnsiSegment {
  text: string;
  /** CSS for the segment's colours and decorations; absent for unstyled text. */
  style?: Record<string, string>;
  /** Part of a search match. */
  mark?: boolean;
}

const ESC = '\u001b';
// OSC sequences (window titles, hyperlinks: ESC ] … BEL or ESC \), which anser leaves in the text.
// eslint-disable-next-line no-control-regex
const OSC_SEQUENCE = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
// Control characters a terminal would not print (tab and ESC stay: tab is text, ESC starts SGR codes).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]/g;
// anser reports colours as "r, g, b"; anything else is not used in a style.
const RGB = /^\d{1,3}, ?\d{1,3}, ?\d{1,3}$/;

/** A terminal shows what follows the last carriage return (progress bars redraw a line that way). */
function afterCarriageReturn(text: string): string {
  const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
  const last = trimmed.lastIndexOf('\r');
  return last === -1 ? trimmed : trimmed.slice(last + 1);
}

function cleaned(text: string): string {
  let result = afterCarriageReturn(text);
  if (result.includes(ESC)) result = result.replace(OSC_SEQUENCE, '');
  return result.replace(UNPRINTABLE, '');
}

/** The text a line shows, without escape codes: what search matches and what is copied. */
export function plainText(text: string): string {
  const visible = cleaned(text);
  return visible.includes(ESC) ? Anser.ansiToText(visible) : visible;
}

function rgb(value: string | null): string | undefined {
  return value && RGB.test(value) ? `rgb(${value})` : undefined;
}

function styleOf(entry: Anser.AnserJsonEntry): Record<string, string> | undefined {
  const style: Record<string, string> = {};
  const color = rgb(entry.fg);
  const background = rgb(entry.bg);
  if (color) style.color = color;
  if (background) style.backgroundColor = background;
  const lines: string[] = [];
  for (const decoration of entry.decorations) {
    if (decoration === 'bold') style.fontWeight = '700';
    else if (decoration === 'dim') style.opacity = '0.7';
    else if (decoration === 'italic') style.fontStyle = 'italic';
    else if (decoration === 'underline') lines.push('underline');
    else if (decoration === 'strikethrough') lines.push('line-through');
    else if (decoration === 'hidden') style.visibility = 'hidden';
  }
  if (lines.length > 0) style.textDecoration = lines.join(' ');
  return Object.keys(style).length > 0 ? style : undefined;
}

/**
 * The segments of one line, each with the style its SGR codes give it. Every line starts unstyled:
 * colours left open at the end of a line do not carry over to the next (a line can then be drawn on
 * its own, which is what lets the viewer render only the lines in view).
 */
export function ansiSegments(text: string): AnsiSegment[] {
  const visible = cleaned(text);
  if (!visible.includes(ESC)) return visible ? [{ text: visible }] : [];
  return Anser.ansiToJson(visible, { remove_empty: true }).map((entry) => {
    const style = styleOf(entry);
    return style ? { text: entry.content, style } : { text: entry.content };
  });
}

/** Where `query` occurs in `plain`, ignoring case: [start, end) pairs that do not overlap. */
export function matchRanges(plain: string, query: string): [number, number][] {
  if (!query) return [];
  const haystack = plain.toLowerCase();
  const needle = query.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    ranges.push([at, at + needle.length]);
  }
  return ranges;
}

/** Splits segments where the ranges (offsets in their joined text) start and end, marking what is inside. */
export function markRanges(
  segments: readonly AnsiSegment[],
  ranges: readonly [number, number][],
): AnsiSegment[] {
  if (ranges.length === 0) return [...segments];
  const result: AnsiSegment[] = [];
  let offset = 0;
  let range = 0;
  for (const segment of segments) {
    const end = offset + segment.text.length;
    let position = offset;
    while (position < end) {
      while (range < ranges.length && ranges[range]![1] <= position) range++;
      const current = ranges[range];
      const inside = !!current && current[0] <= position;
      const stop = Math.min(end, current ? (inside ? current[1] : current[0]) : end);
      const piece = { ...segment, text: segment.text.slice(position - offset, stop - offset) };
      if (inside) piece.mark = true;
      result.push(piece);
      position = stop;
    }
    offset = end;
  }
  return result;
}
