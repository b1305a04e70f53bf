/// <reference types="vite-plugin-pwa/vanillajs" />
// The production build's service worker (vite-plugin-pwa / Workbox, configured in
// vite.config.ts): it precaches the app so the page opens and trains offline after the first
// visit. A new version is never forced on an open page: the new worker waits, `available`
// turns true, the page says so, and the version changes only when the user presses Reload
// (or every tab of the playground has been closed). Nothing is registered by the dev server.

/** How often an open page asks the server whether a new version was deployed. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

class AppUpdate {
  /** A new version is installed and waits for the user's reload. */
  available = $state(false);
  private apply: ((reloadPage?: boolean) => Promise<void>) | undefined;

  /** Registers the service worker (production build, in a browser that has them). */
  async start(): Promise<void> {
    if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
    const { registerSW } = await import('virtual:pwa-register');
    this.apply = registerSW({
      onNeedRefresh: () => {
        this.available = true;
      },
      onRegisteredSW: (_url, registration) => {
        // Browsers look for a new service worker on each navigation; a page left open for
        // hours also looks now and then (offline, the check fails quietly).
        if (registration) setInterval(() => void registration.update().catch(() => undefined), CHECK_EVERY_MS);
      },
      onRegisterError: (err: unknown) => console.error('The service worker (offline use) could not be registered:', err),
    });
  }

  /** Activates the waiting version; the page reloads once it controls the page. */
  async reload(): Promise<void> {
    await this.apply?.(true);
  }

  /** Hides the notice; the new version waits until every tab of the playground is closed. */
  dismiss(): void {
    this.available = false;
  }
}

export const appUpdate = new AppUpdate();
