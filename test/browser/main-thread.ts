// Main-thread task lengths from a Chromium trace: every top-level task (RunTask) of the page's
// renderer main thread with its wall time (dur) and its own CPU time (tdur). Wall time grows
// when the machine is busy with other work; CPU time is what the page itself costs, so the
// jank assertions use it (the wall times are reported beside it).
import type { Browser, Page } from 'playwright-core';

export interface TaskStats {
  tasks: number;
  /** Longest task, wall clock, ms. */
  maxWallMs: number;
  /** Longest task, main-thread CPU time, ms. */
  maxCpuMs: number;
  /** Tasks over 50 ms of CPU. */
  overBudget: number[];
}

export async function startMainThreadTrace(browser: Browser, page: Page): Promise<void> {
  await browser.startTracing(page, { categories: ['toplevel', 'disabled-by-default-devtools.timeline'] });
}

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

export async function stopMainThreadTrace(browser: Browser): Promise<TaskStats> {
  const buf = await browser.stopTracing();
  const parsed = JSON.parse(buf.toString('utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  if (mains.size === 0) throw new Error('the trace has no renderer main thread (CrRendererMain)');
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && mains.has(`${e.pid}:${e.tid}`) && e.dur !== undefined);
  const wall = tasks.map((e) => e.dur! / 1000);
  const cpu = tasks.map((e) => (e.tdur ?? e.dur!) / 1000);
  return {
    tasks: tasks.length,
    maxWallMs: Math.round(Math.max(0, ...wall)),
    maxCpuMs: Math.round(Math.max(0, ...cpu)),
    overBudget: cpu.filter((x) => x > 50).map(Math.round),
  };
}

/** Long tasks (PerformanceObserver 'longtask') and the largest gap between animation frames. */
export const JANK_MONITOR = `
  window.__jank = { longTasks: [], maxFrameGap: 0, running: false };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (window.__jank.running) window.__jank.longTasks.push(Math.round(e.duration));
  }).observe({ type: 'longtask', buffered: false });
  let last = 0;
  const tick = (t) => {
    if (window.__jank.running && last) window.__jank.maxFrameGap = Math.max(window.__jank.maxFrameGap, t - last);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
`;
