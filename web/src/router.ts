import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { safeNextPath, signInQuery } from './accounts/next-path';
import { currentViewer, onSessionEnded, viewerLoaded } from './accounts/viewer';
import NotFoundPage from './pages/NotFoundPage.vue';
import OverviewPage from './pages/OverviewPage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the browser tab. */
    title: string;
    /** Set for pages listed in the side navigation, in the order of `routes`. */
    navLabel?: string;
    /** Listed under the current organization's name (for signed-in people) rather than at the top. */
    navGroup?: 'organization';
    /** Only for signed-in people; others are sent to sign in first. */
    requiresAuth?: boolean;
    /** Only for signed-out people (sign in, sign up); others are sent on. */
    guestOnly?: boolean;
  }
}

// Pages with a navLabel appear in the navigation. Every page but the overview loads on
// first visit, so the first load stays small (web/test/first-load-size.test.ts).
const routes: RouteRecordRaw[] = [
  { path: '/', name: 'overview', component: OverviewPage, meta: { title: 'Overview', navLabel: 'Overview' } },
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('./pages/SignInPage.vue'),
    meta: { title: 'Sign in', guestOnly: true },
  },
  {
    path: '/sign-up',
    name: 'sign-up',
    component: () => import('./pages/SignUpPage.vue'),
    meta: { title: 'Sign up', guestOnly: true },
  },
  {
    // Where a first sign-in with GitHub or Google leads: age, policy, then the account exists.
    path: '/oauth/complete',
    name: 'oauth-complete',
    component: () => import('./pages/OAuthCompletePage.vue'),
    meta: { title: 'Finish signing up' },
  },
  {
    path: '/forgot-password',
    name: 'forgot-password',
    component: () => import('./pages/ForgotPasswordPage.vue'),
    meta: { title: 'Forgot password' },
  },
  {
    path: '/reset-password',
    name: 'reset-password',
    component: () => import('./pages/ResetPasswordPage.vue'),
    meta: { title: 'Choose a new password' },
  },
  {
    path: '/verify-email',
    name: 'verify-email',
    component: () => import('./pages/VerifyEmailPage.vue'),
    meta: { title: 'Verify your email address' },
  },
  {
    path: '/account',
    name: 'account',
    component: () => import('./pages/AccountPage.vue'),
    meta: { title: 'Account', requiresAuth: true },
  },
  // Workloads of the current organization's project; each page loads on first visit.
  {
    path: '/jobs',
    name: 'jobs',
    component: () => import('./pages/JobsPage.vue'),
    meta: { title: 'Jobs', navLabel: 'Jobs', navGroup: 'organization', requiresAuth: true },
  },
  {
    path: '/jobs/new',
    name: 'submit-job',
    component: () => import('./pages/SubmitJobPage.vue'),
    meta: { title: 'Submit a job', requiresAuth: true },
  },
  {
    path: '/jobs/:id',
    name: 'job',
    component: () => import('./pages/JobDetailPage.vue'),
    props: true,
    meta: { title: 'Job', requiresAuth: true },
  },
  {
    path: '/definitions',
    name: 'definitions',
    component: () => import('./pages/DefinitionsPage.vue'),
    meta: { title: 'Job definitions', navLabel: 'Definitions', navGroup: 'organization', requiresAuth: true },
  },
  {
    path: '/definitions/:name',
    name: 'definition',
    component: () => import('./pages/DefinitionPage.vue'),
    props: true,
    meta: { title: 'Job definition', requiresAuth: true },
  },
  {
    path: '/queues',
    name: 'queues',
    component: () => import('./pages/QueuesPage.vue'),
    meta: { title: 'Job queues', navLabel: 'Queues', navGroup: 'organization', requiresAuth: true },
  },
  {
    path: '/queues/:id',
    name: 'queue',
    component: () => import('./pages/QueuePage.vue'),
    props: true,
    meta: { title: 'Job queue', requiresAuth: true },
  },
  {
    path: '/compute',
    name: 'compute-environments',
    component: () => import('./pages/ComputeEnvironmentsPage.vue'),
    meta: {
      title: 'Compute environments',
      navLabel: 'Compute',
      navGroup: 'organization',
      requiresAuth: true,
    },
  },
  {
    path: '/compute/:id',
    name: 'compute-environment',
    component: () => import('./pages/ComputeEnvironmentPage.vue'),
    props: true,
    meta: { title: 'Compute environment', requiresAuth: true },
  },
  {
    path: '/schedules',
    name: 'schedules',
    component: () => import('./pages/SchedulesPage.vue'),
    meta: { title: 'Cron schedules', navLabel: 'Schedules', navGroup: 'organization', requiresAuth: true },
  },
  {
    path: '/members',
    name: 'members',
    component: () => import('./pages/MembersPage.vue'),
    meta: { title: 'Members', navLabel: 'Members', navGroup: 'organization', requiresAuth: true },
  },
  {
    path: '/credentials',
    name: 'credentials',
    component: () => import('./pages/CredentialsPage.vue'),
    meta: { title: 'Credentials', navLabel: 'Credentials', navGroup: 'organization', requiresAuth: true },
  },
  {
    // The link in an invitation email. Signed out, sign-in comes first and returns here, token and all.
    path: '/invitations/accept',
    name: 'accept-invitation',
    component: () => import('./pages/AcceptInvitationPage.vue'),
    meta: { title: 'Join an organization', requiresAuth: true },
  },
  {
    path: '/tokens',
    name: 'tokens',
    component: () => import('./pages/TokensPage.vue'),
    meta: { title: 'API tokens', requiresAuth: true },
  },
  {
    path: '/audit',
    name: 'audit',
    component: () => import('./pages/AuditPage.vue'),
    meta: { title: 'Audit log', requiresAuth: true },
  },
  {
    path: '/outbox',
    name: 'outbox',
    component: () => import('./pages/OutboxPage.vue'),
    meta: { title: 'Development outbox', requiresAuth: true },
  },
  {
    path: '/privacy',
    name: 'privacy',
    component: () => import('./pages/PrivacyPage.vue'),
    meta: { title: 'Privacy' },
  },
  {
    path: '/:unknownPath(.*)*',
    name: 'not-found',
    component: NotFoundPage,
    meta: { title: 'Page not found' },
  },
];

export const navigation = routes.flatMap((route) =>
  route.meta?.navLabel && route.name
    ? [{ name: route.name, label: route.meta.navLabel, group: route.meta.navGroup }]
    : [],
);

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  if (!to.meta.requiresAuth && !to.meta.guestOnly) return true;
  await viewerLoaded();
  const { status, user } = currentViewer();
  // status "error": the server could not be asked. Let the page load and show its own errors
  // rather than sending someone who is signed in to a sign-in form.
  if (to.meta.requiresAuth && !user && status === 'ready') {
    return { name: 'sign-in', query: signInQuery(to.fullPath) };
  }
  if (to.meta.guestOnly && user) return safeNextPath(to.query.next);
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title} · Daestro`;
});

// A session revoked from another device, or expired: leave pages that need one.
onSessionEnded(() => {
  const route = router.currentRoute.value;
  if (!route.meta.requiresAuth) return;
  void router.replace({ name: 'sign-in', query: { ...signInQuery(route.fullPath), ended: '1' } });
});
