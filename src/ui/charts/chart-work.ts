// Chart work is spread over animation frames: at most one chart is built or redrawn per frame,
// so six charts updating together never add up to one long main-thread task.
const queue: (() => void)[] = [];
const queued = new Set<() => void>();
let frame = 0;

function run() {
  frame = 0;
  const job = queue.shift();
  if (job) {
    queued.delete(job);
    job();
  }
  if (queue.length) frame = requestAnimationFrame(run);
}

/** Runs `job` in a later frame; a job already waiting is not queued twice. */
export function scheduleChartWork(job: () => void): void {
  if (queued.has(job)) return;
  queued.add(job);
  queue.push(job);
  if (!frame) frame = requestAnimationFrame(run);
}

export function cancelChartWork(job: () => void): void {
  if (!queued.delete(job)) return;
  const i = queue.indexOf(job);
  if (i >= 0) queue.splice(i, 1);
}
