import { createApp } from 'vue';
import urql from '@urql/vue';
import App from './App.vue';
import { urqlClient } from './graphql/client';
import { router } from './router';
import './styles.css';

createApp(App).use(router).use(urql, urqlClient).mount('#app');
