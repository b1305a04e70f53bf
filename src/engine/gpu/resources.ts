// Per-device caches shared by every model and trainer on one GPU: compiled pipelines
// (keyed by WGSL source) and small uniform buffers (keyed by content), plus a tally of
// the bytes this engine holds on the GPU. Nothing here allocates during a training step:
// pipelines and uniforms are created when a step *plan* is first built for a shape.
import type { GpuContext } from '../device.ts';

export type UniformType = 'u32' | 'f32';

/** A compute kernel: WGSL body plus the uniform struct it reads at @binding(0). */
export interface Kernel {
  name: string;
  /** WGSL after the generated `struct Params` / uniform declaration. */
  code: string;
  uniforms: Array<[string, UniformType]>;
}

/** A model, batch or context that does not fit the adapter's memory or buffer limits: the
 *  experiment worker reports it as an out-of-memory failure (src/experiment/protocol.ts). */
export class GpuMemoryError extends Error {
  override name = 'GpuMemoryError';
}

/** A buffer the engine will create: its label (as passed to createBuffer), its size in bytes
 *  as requested, and whether it is bound whole as a storage buffer (then
 *  maxStorageBufferBindingSize applies to it, else only maxBufferSize). The memory plan
 *  (memory-plan.ts) and the allocators list buffers through the same functions. */
export interface BufferSpec {
  label: string;
  bytes: number;
  bindable: boolean;
}

/** The bytes createBuffer actually allocates for a request of `bytes`: at least 16, rounded
 *  up to a multiple of 16. */
export function bufferSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** A uniform buffer's label: these are created as plans are built (kernel parameters, one
 *  per distinct content, shared by every model on the device), not by the allocators. */
export const UNIFORM_LABEL = 'uniform';

export class GpuResources {
  readonly device: GPUDevice;
  private pipelines = new Map<string, GPUComputePipeline>();
  private uniformCache = new Map<string, GPUBuffer>();
  private bytesHeld = 0;
  private readonly live = new Map<GPUBuffer, { label: string; size: number }>();
  private compileChecks: Array<Promise<void>> = [];
  readonly limits: GPUSupportedLimits;

  constructor(readonly ctx: GpuContext) {
    this.device = ctx.device;
    this.limits = ctx.limits;
  }

  pipeline(kernel: Kernel): GPUComputePipeline {
    const source = kernelSource(kernel);
    let p = this.pipelines.get(source);
    if (!p) {
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ label: kernel.name, code: source });
      p = this.device.createComputePipeline({ label: kernel.name, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.compileChecks.push(
        this.device.popErrorScope().then((err) => {
          if (err) throw new Error(`WGSL kernel ${kernel.name} failed to compile: ${err.message}`);
        }),
      );
      this.pipelines.set(source, p);
    }
    return p;
  }

  /** Rejects if a pipeline created since the last call failed to compile (WebGPU reports
   *  such errors asynchronously); resolves at once when nothing new was compiled. */
  async checkCompiled(): Promise<void> {
    const checks = this.compileChecks.splice(0);
    if (checks.length) await Promise.all(checks);
  }

  /** A uniform buffer holding `values` in the kernel's declared order; shared by every
   *  dispatch that needs the same values. */
  uniform(kernel: Kernel, values: Record<string, number>): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil((kernel.uniforms.length * 4) / 16) * 16));
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    kernel.uniforms.forEach(([name, type], i) => {
      const v = values[name];
      if (v === undefined || !Number.isFinite(v)) throw new Error(`kernel ${kernel.name}: uniform ${name} missing or not finite (${v})`);
      if (type === 'u32') {
        if (!Number.isInteger(v) || v < 0) throw new Error(`kernel ${kernel.name}: uniform ${name} must be a non-negative integer (${v})`);
        u32[i] = v;
      } else f32[i] = v;
    });
    const key = Array.from(u32).join(',');
    let buf = this.uniformCache.get(key);
    if (!buf) {
      buf = this.createBuffer(UNIFORM_LABEL, data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      this.device.queue.writeBuffer(buf, 0, data);
      this.uniformCache.set(key, buf);
    }
    return buf;
  }

  /** Creates a buffer after checking it against the device limits, with a message that
   *  names the tensor when it does not fit. */
  createBuffer(label: string, bytes: number, usage: GPUBufferUsageFlags, bindable = true): GPUBuffer {
    const size = bufferSize(bytes);
    if (size > this.limits.maxBufferSize) {
      throw new GpuMemoryError(`GPU buffer "${label}" needs ${fmtBytes(size)}, above this adapter's maxBufferSize ${fmtBytes(this.limits.maxBufferSize)}: use a smaller model, batch or context`);
    }
    if (bindable && size > this.limits.maxStorageBufferBindingSize) {
      throw new GpuMemoryError(`GPU buffer "${label}" needs ${fmtBytes(size)}, above this adapter's maxStorageBufferBindingSize ${fmtBytes(this.limits.maxStorageBufferBindingSize)}: use a smaller model, batch or context`);
    }
    const buf = this.device.createBuffer({ label, size, usage });
    this.bytesHeld += size;
    this.live.set(buf, { label, size });
    return buf;
  }

  release(buf: GPUBuffer): void {
    this.bytesHeld -= buf.size;
    this.live.delete(buf);
    buf.destroy();
  }

  /** Bytes of every buffer created here and not released (the tally). */
  get gpuBytes(): number {
    return this.bytesHeld;
  }

  /** The buffers held now, by label and allocated size, in creation order. */
  liveBuffers(): Array<{ label: string; size: number }> {
    return [...this.live.values()];
  }

  /** Of gpuBytes, the bytes in uniform buffers (kernel parameters cached by content). */
  get uniformBytes(): number {
    let n = 0;
    for (const b of this.live.values()) if (b.label === UNIFORM_LABEL) n += b.size;
    return n;
  }
}

export function kernelSource(kernel: Kernel): string {
  const fields = kernel.uniforms.map(([n, t]) => `  ${n}: ${t},`).join('\n');
  const struct = kernel.uniforms.length ? `struct Params {\n${fields}\n}\n@group(0) @binding(0) var<uniform> p: Params;\n` : '';
  return `// ${kernel.name}\n${struct}${kernel.code}`;
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

const resourcesByDevice = new WeakMap<GPUDevice, GpuResources>();

/** One GpuResources per device, so models and trainers on the same device share caches. */
export function gpuResources(ctx: GpuContext): GpuResources {
  let r = resourcesByDevice.get(ctx.device);
  if (!r) {
    r = new GpuResources(ctx);
    resourcesByDevice.set(ctx.device, r);
  }
  return r;
}

/** queue.writeBuffer for any typed array (TypeScript's ArrayBufferLike generics aside). */
export function upload(queue: GPUQueue, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  queue.writeBuffer(buffer, offset, data as unknown as GPUAllowSharedBufferSource);
}

/** Copies a whole buffer (or its first `bytes`) back to the CPU as f32s, through a staging
 *  buffer made for the purpose (readbacks outside a training step). */
export async function readBufferF32(device: GPUDevice, src: GPUBuffer, bytes = src.size): Promise<Float32Array> {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
