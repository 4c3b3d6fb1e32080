import { h, type FunctionalComponent } from 'vue';
import { ansiSegments, markRanges } from './ansi';

/**
 * One log line's text as spans styled from its ANSI codes, search matches wrapped in <mark>. The
 * text goes in as text nodes (never innerHTML), so markup in a log line shows as written.
 */
export const LogLineText: FunctionalComponent<{ text: string; ranges?: [number, number][] }> = (props) =>
  markRanges(ansiSegments(props.text), props.ranges ?? []).map((segment) =>
    h(segment.mark ? 'mark' : 'span', segment.style ? { style: segment.style } : null, segment.text),
  );

LogLineText.props = ['text', 'ranges'];
