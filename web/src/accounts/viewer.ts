// Who is signed in, for the whole page. The session lives in an httpOnly cookie that scripts cannot
// read, so the page asks the server (`me`) and changes its mind only on the server's word.
import { computed, shallowRef, watch } from 'vue';
import { graphql, useFragment as unmaskFragment, type FragmentType } from '../gql';
import type { ViewerFieldsFragment } from '../gql/graphql';
import { onCredentialsRejected, restartClients, urqlClient } from '../graphql/client';
import { useConnection } from '../graphql/connection';
import { hasErrorCode } from './errors';

export const viewerFieldsFragment = graphql(`
  fragment ViewerFields on User {
    id
    name
    email
    emailVerifiedAt
    hasPassword
  }
`);

const meQuery = graphql(`
  query Viewer {
    me {
      ...ViewerFields
    }
  }
`);

const logOutMutation = graphql(`
  mutation LogOut {
    logOut {
      signedOut
    }
  }
`);

export type ViewerUser = ViewerFieldsFragment;

interface ViewerState {
  /** loading: not asked yet; error: the server could not be asked (the page may still work). */
  status: 'loading' | 'ready' | 'error';
  user: ViewerUser | null;
}

const state = shallowRef<ViewerState>({ status: 'loading', user: null });
let loading: Promise<void> | undefined;
/** A deliberate sign-out is under way: the server closing our socket is expected, not news. */
let signingOut = false;
/** Re-checks of who is signed in, run one after another. */
let checks: Promise<void> = Promise.resolve();
let queuedCheck: { restartAnyway: boolean } | undefined;
const sessionEndedListeners = new Set<() => void>();

async function fetchViewer(): Promise<void> {
  const result = await urqlClient.value.query(meQuery, {}, { requestPolicy: 'network-only' }).toPromise();
  if (result.error || !result.data) {
    state.value = { status: state.value.user ? 'ready' : 'error', user: state.value.user };
    return;
  }
  state.value = { status: 'ready', user: unmaskFragment(viewerFieldsFragment, result.data.me) ?? null };
}

/** Resolves once the page knows whether someone is signed in (asks the server the first time). */
export function viewerLoaded(): Promise<void> {
  loading ??= fetchViewer();
  return loading;
}

/** Asks the server again, e.g. after the email address was verified. */
export function refreshViewer(): Promise<void> {
  loading = fetchViewer();
  return loading;
}

/** After signUp, logIn or resetPassword: the response set the cookie, so everything starts over. */
export function signedIn(user: FragmentType<typeof viewerFieldsFragment>): void {
  state.value = { status: 'ready', user: unmaskFragment(viewerFieldsFragment, user) };
  loading = Promise.resolve();
  restartClients();
  announceIdentityChange();
}

/** After updateProfile or changeEmail: the same person and session, with new details. */
export function viewerUpdated(user: FragmentType<typeof viewerFieldsFragment>): void {
  const updated = unmaskFragment(viewerFieldsFragment, user);
  if (updated.id !== state.value.user?.id) return;
  state.value = { status: 'ready', user: updated };
}

/** Ends this browser's session. Resolves with an error message if the server could not be reached. */
export async function signOut(): Promise<string | undefined> {
  signingOut = true;
  try {
    const result = await urqlClient.value.mutation(logOutMutation, {}).toPromise();
    // UNAUTHENTICATED: the session had already ended; either way nobody is signed in now.
    if (result.error && !hasErrorCode(result.error, 'UNAUTHENTICATED')) {
      return result.error.graphQLErrors[0]?.message ?? 'Could not reach the Daestro server to sign out.';
    }
    state.value = { status: 'ready', user: null };
    loading = Promise.resolve();
    restartClients();
    announceIdentityChange();
    return undefined;
  } finally {
    signingOut = false;
  }
}

/** Runs `listener` when the session ends without the person signing out here (revoked elsewhere, expired). */
export function onSessionEnded(listener: () => void): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

function notifySessionEnded(): void {
  for (const listener of sessionEndedListeners) listener();
}

/**
 * Asks `me` who we are now and follows: a new person or nobody means new clients, and leaving
 * pages that need a session. `restartAnyway` when the socket is dead whatever the answer.
 * Checks run one after another, so a late answer cannot undo a newer one.
 */
function recheckViewer(restartAnyway: boolean): void {
  // Several failed requests at once need one check, not one each.
  if (queuedCheck) {
    queuedCheck.restartAnyway ||= restartAnyway;
    return;
  }
  const check = { restartAnyway };
  queuedCheck = check;
  checks = checks
    .then(async () => {
      queuedCheck = undefined;
      const before = state.value.user?.id;
      await refreshViewer();
      const after = state.value.user?.id;
      if (check.restartAnyway || after !== before) restartClients();
      if (before && !after) notifySessionEnded();
    })
    .catch(() => undefined);
}

// The server rejected our credentials. A revoked socket is dead whatever `me` says; a refused
// request matters only if we thought someone was signed in (a wrong password is refused too).
onCredentialsRejected((how) => {
  if (signingOut) return;
  if (how === 'request-refused' && !state.value.user) return;
  recheckViewer(how === 'socket-revoked');
});

// Tabs share the cookie: when one signs in or out, the others follow, rather than showing one
// person while their requests go out as another.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('daestro.session') : undefined;

function announceIdentityChange(): void {
  tabs?.postMessage('changed');
}

tabs?.addEventListener('message', () => recheckViewer(false));

// Could not ask at first (server down)? Ask again once the server is back.
const { sessions: connections } = useConnection();
watch(connections, () => {
  if (state.value.status === 'error') void refreshViewer();
});

const user = computed(() => state.value.user);
const status = computed(() => state.value.status);

export function useViewer() {
  return { user, status };
}

/** For the router guard, outside components. */
export function currentViewer(): ViewerState {
  return state.value;
}
