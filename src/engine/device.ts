// Acquiring a WebGPU device, in a browser (navigator.gpu) or in Node (Dawn from the
// `webgpu` package). The device is created with the adapter's own limits, so large
// models can use what the hardware offers; `describeAdapter` reports what we ran on.

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** Human-readable adapter description, e.g. "google swiftshader (fallback)". */
  description: string;
  limits: GPUSupportedLimits;
  features: ReadonlySet<string>;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined' && typeof self === 'undefined';

/** Imports a Node-only module through a specifier Vite cannot follow, so the browser build
 *  neither bundles nor stubs it (this path never runs in a browser). */
const nodeImport = <T>(specifier: string): Promise<T> => import(/* @vite-ignore */ specifier) as Promise<T>;

/** Dawn in Node finds no adapter on a GPU-less machine unless the Vulkan loader is shown a
 *  software driver. We list the system's ICDs *and* SwiftShader's, so a real GPU is still
 *  preferred when present. */
async function nodeGpu(): Promise<GPU> {
  const fs = await nodeImport<typeof import('node:fs')>('node:fs');
  const path = await nodeImport<typeof import('node:path')>('node:path');
  if (!process.env.VK_ICD_FILENAMES) {
    const icds: string[] = [];
    for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']) {
      try {
        for (const f of fs.readdirSync(dir)) if (f.endsWith('.json')) icds.push(path.join(dir, f));
      } catch {
        /* directory absent */
      }
    }
    for (const f of ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json']) {
      if (fs.existsSync(f)) icds.push(f);
    }
    if (icds.length) process.env.VK_ICD_FILENAMES = icds.join(':');
  }
  const webgpu = await nodeImport<typeof import('webgpu')>('webgpu');
  Object.assign(globalThis, webgpu.globals);
  return webgpu.create([]) as unknown as GPU;
}

let nodeGpuPromise: Promise<GPU> | undefined;

export async function getGpu(): Promise<GPU> {
  if (typeof navigator !== 'undefined' && (navigator as Navigator).gpu) return (navigator as Navigator).gpu;
  if (isNode) return (nodeGpuPromise ??= nodeGpu());
  throw new Error(
    'WebGPU is not available in this browser. Use a recent Chrome or Edge, or enable WebGPU ' +
      '(chrome://flags/#enable-unsafe-webgpu; Firefox Nightly: dom.webgpu.enabled; Safari: Develop → Feature Flags → WebGPU).',
  );
}

/** A CPU (software) adapter such as SwiftShader, llvmpipe/lavapipe or a fallback adapter:
 *  one rule for every kernel choice that differs between CPUs and GPUs (matmul tiles,
 *  barrier-free attention and sampling). */
export function isSoftwareAdapter(ctx: Pick<GpuContext, 'adapter' | 'description'>): boolean {
  const info = ctx.adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  return info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software|fallback|cpu/i.test(ctx.description);
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => !!s);
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean })?.isFallbackAdapter;
  return (parts.join(' ') || 'unknown adapter') + (fallback ? ' (fallback)' : '');
}

/** Requests an adapter and a device with every limit raised to the adapter's maximum. */
export async function createGpuContext(opts: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      'No WebGPU adapter found. In Node, install a Vulkan driver or Debian\'s chromium package ' +
        '(it ships SwiftShader, used automatically); in a browser, enable WebGPU.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    const v = adapter.limits[key];
    if (typeof v === 'number') requiredLimits[key] = v;
  }
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
  return {
    device,
    adapter,
    description: describeAdapter(adapter),
    limits: device.limits,
    features: device.features as ReadonlySet<string>,
  };
}
