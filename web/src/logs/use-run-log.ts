import { markRaw, nextTick, onBeforeUnmount, shallowRef } from 'vue';
import { urqlClient } from '../graphql/client';
import { useCursorFollower } from '../graphql/use-cursor-follower';
import { frameBatcher } from './frame-batcher';
import { LogBuffer, type LogLine } from './log-buffer';
import { runLogSource } from './run-log-source';

const APPEND_MEASURE = 'daestro:log-append';
/** Measures kept in the page's performance timeline; older ones are cleared (observers saw them). */
const KEPT_MEASURES = 500;
let measures = 0;

function measureAppend(start: number, lines: number): void {
  performance.measure(APPEND_MEASURE, { start, detail: { lines } });
  if (++measures % KEPT_MEASURES === 0) performance.clearMeasures(APPEND_MEASURE);
}

/**
 * One run's log as the viewer shows it: the lines received so far (each seq once, in order), kept
 * coming over the subscription while the socket is live and by polling while only HTTP works. New
 * lines are applied once per animation frame; `version` changes with every change of the buffer.
 */
export function useRunLog(runId: string, runFinished: () => boolean) {
  // The buffer is large and changes in place: not reactive itself, `version` says when it changed.
  const buffer = markRaw(new LogBuffer());
  const version = shallowRef(0);
  const appended = frameBatcher<LogLine>((lines) => {
    const started = performance.now();
    if (buffer.add(lines) > 0) version.value++;
    // What an append costs the page (the buffer, then Vue's render of the rows in view), as a User
    // Timing measure that performance tools and the browser test can observe.
    void nextTick(() => measureAppend(started, lines.length));
  });
  onBeforeUnmount(() => appended.cancel());
  const following = useCursorFollower(
    runLogSource(() => urqlClient.value, runId),
    {
      deliver: (lines) => appended.push(lines),
      runFinished,
      what: 'log',
    },
  );
  return {
    ...following,
    buffer,
    version,
    /** Re-applies the view's filters after they changed. */
    changed() {
      version.value++;
    },
  };
}
