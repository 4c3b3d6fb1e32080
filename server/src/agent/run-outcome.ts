import type { RunResult } from './executors/executor.js';
import type { FinishRunInput } from './protocol.js';

/** How a run ended, from the agent's side. */
export type RunEnding =
  | { kind: 'RESULT'; result: RunResult }
  /** The executor failed mid-run (e.g. the Docker engine went away). */
  | { kind: 'HOST_FAILURE'; message: string }
  /** The agent gave the run back (shutdown past its drain deadline, no executor for its type). */
  | { kind: 'HANDED_BACK'; note: string };

/**
 * The finishRun input for an ending: exit 0 → COMPLETED; another exit → FAILED
 * (APP_FAILURE); timeout → TIMEOUT; cancel → CANCELLED; OOM kill → FAILED with
 * the note; a run that never started, a host failure or a run handed back →
 * ERROR (INFRA_FAILURE), which the retry policy may run again elsewhere.
 */
export function finishInput(ending: RunEnding): FinishRunInput {
  if (ending.kind === 'HOST_FAILURE') return infraError(ending.message);
  if (ending.kind === 'HANDED_BACK') return infraError(ending.note);
  const { result } = ending;
  const common = { exitCode: result.exitCode, systemNote: result.systemNote };
  switch (result.outcome) {
    case 'EXITED':
      if (result.exitCode === 0) return { ...common, outcome: 'COMPLETED', failureClass: null };
      return {
        ...common,
        outcome: 'FAILED',
        failureClass: 'APP_FAILURE',
        // A process ended by a signal it did not ask for has no exit code: say which.
        systemNote: result.systemNote ?? (result.signal ? `Ended by ${result.signal}.` : null),
      };
    case 'OOM_KILLED':
      return { ...common, outcome: 'FAILED', failureClass: 'APP_FAILURE' };
    case 'TIMED_OUT':
      return { ...common, outcome: 'TIMEOUT', failureClass: 'TIMEOUT' };
    case 'CANCELLED':
      return { ...common, outcome: 'CANCELLED', failureClass: null };
    case 'FAILED_TO_START':
      return infraError(result.systemNote ?? 'The run could not be started.');
  }
}

function infraError(note: string): FinishRunInput {
  return { outcome: 'ERROR', exitCode: null, failureClass: 'INFRA_FAILURE', systemNote: note };
}
