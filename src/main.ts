// App entry: global styles and the Svelte root.
import { mount } from 'svelte';
import './ui/app.css';
import 'uplot/dist/uPlot.min.css';
import App from './ui/App.svelte';
import { appUpdate } from './ui/state/app-update.svelte.ts';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
export default mount(App, { target });
// The service worker for offline use (production build only).
void appUpdate.start();
