// TEST ONLY: hooks the browser tests call inside a worker, outside every worker's production
// API. A worker answers them only in a dev-server build (`import.meta.env.DEV`, which the
// browser tests run on): it calls answerTestHooks() behind that guard, so a production build
// has neither the listener nor this module. The page side, callTestHook(), is reached by a test
// through the dev server (`import('/src/experiment/test-hooks.ts')` in `page.evaluate`); the app
// never imports it. The two sides meet on a BroadcastChannel of this origin.
//   lose-device  the experiment worker destroys its GPU device, which resolves `device.lost`
//                exactly as a driver reset would (test/browser/device-lost.test.ts); answers
//                false when it has no device yet.

export type TestHookName = 'lose-device';
export type TestHooks = Partial<Record<TestHookName, () => Promise<boolean>>>;

const CHANNEL = 'atlas-test-hooks';

interface HookCall {
  call: TestHookName;
  id: string;
}
interface HookAnswer {
  answer: boolean;
  id: string;
}

/** In a worker: answers the hooks it has. */
export function answerTestHooks(hooks: TestHooks): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = async (e: MessageEvent<HookCall | HookAnswer>) => {
    if (!('call' in e.data)) return;
    const hook = hooks[e.data.call];
    if (hook) channel.postMessage({ answer: await hook(), id: e.data.id } satisfies HookAnswer);
  };
}

/** In the page: runs `name` in the worker that has it; false when no worker answers within `timeoutMs`. */
export function callTestHook(name: TestHookName, timeoutMs = 5000): Promise<boolean> {
  const channel = new BroadcastChannel(CHANNEL);
  const id = `${name}-${Date.now()}-${Math.random()}`;
  return new Promise<boolean>((resolve) => {
    const done = (answer: boolean) => {
      clearTimeout(timer);
      channel.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    channel.onmessage = (e: MessageEvent<HookCall | HookAnswer>) => {
      if ('answer' in e.data && e.data.id === id) done(e.data.answer);
    };
    channel.postMessage({ call: name, id } satisfies HookCall);
  });
}
