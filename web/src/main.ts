import { createApp } from 'vue';
import urql from '@urql/vue';
import App from './App.vue';
import { viewerLoaded } from './accounts/viewer';
import { urqlClient } from './graphql/client';
import { router } from './router';
import './styles.css';

// Ask who is signed in right away, in parallel with loading the first page.
void viewerLoaded();

createApp(App).use(router).use(urql, urqlClient).mount('#app');
