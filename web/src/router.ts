import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import NotFoundPage from './pages/NotFoundPage.vue';
import OverviewPage from './pages/OverviewPage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the browser tab. */
    title: string;
    /** Set for pages listed in the side navigation, in the order of `routes`. */
    navLabel?: string;
  }
}

// New pages (jobs, definitions, queues, compute, schedules, credentials) slot in here
// with a navLabel and appear in the navigation.
const routes: RouteRecordRaw[] = [
  { path: '/', name: 'overview', component: OverviewPage, meta: { title: 'Overview', navLabel: 'Overview' } },
  {
    path: '/:unknownPath(.*)*',
    name: 'not-found',
    component: NotFoundPage,
    meta: { title: 'Page not found' },
  },
];

export const navigation = routes.flatMap((route) =>
  route.meta?.navLabel && route.name ? [{ name: route.name, label: route.meta.navLabel }] : [],
);

export const router = createRouter({ history: createWebHistory(), routes });

router.afterEach((to) => {
  document.title = `${to.meta.title} · Daestro`;
});
