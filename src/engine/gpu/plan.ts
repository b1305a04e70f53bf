// A recorded list of dispatches (pipeline + cached bind group + workgroup counts). Plans
// are built once per (model, shape) and then replayed into a compute pass every step, so
// a step creates no bind groups, uniforms or buffers.
import type { GpuResources, Kernel } from './resources.ts';
import type { WeightFormat } from '../half.ts';

/** A binding: a whole buffer or a 256-byte-aligned sub-range of one. */
export interface View {
  buffer: GPUBuffer;
  /** Offset in bytes (multiple of 256). */
  offset?: number;
  /** Size in bytes; the rest of the buffer when omitted. */
  size?: number;
  /** How the values are stored: 'f16'/'bf16' = packed two per u32 (a frozen model's
   *  matrices, half.ts); absent = f32. Kernels that read weights choose their variant by it. */
  format?: WeightFormat;
}

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export class Plan {
  readonly dispatches: Dispatch[] = [];
  constructor(private readonly res: GpuResources) {}

  /** Appends one dispatch: binding 0 is the uniform built from `uniforms`, bindings
   *  1..n are `views` in order (the kernel's WGSL declares them in that order). */
  add(kernel: Kernel, uniforms: Record<string, number>, views: View[], workgroups: [number, number?, number?]): void {
    const pipeline = this.res.pipeline(kernel);
    const entries: GPUBindGroupEntry[] = [];
    if (kernel.uniforms.length) entries.push({ binding: 0, resource: { buffer: this.res.uniform(kernel, uniforms) } });
    views.forEach((v, i) => {
      const offset = v.offset ?? 0;
      if (offset % 256 !== 0) throw new Error(`kernel ${kernel.name}: binding ${i + 1} offset ${offset} is not 256-byte aligned`);
      const size = v.size ?? v.buffer.size - offset;
      entries.push({ binding: i + 1, resource: { buffer: v.buffer, offset, size } });
    });
    const maxWg = this.res.limits.maxComputeWorkgroupsPerDimension;
    const wg: [number, number, number] = [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1];
    if (wg.some((n) => n > maxWg)) throw new Error(`kernel ${kernel.name}: ${wg.join('×')} workgroups exceed this adapter's limit ${maxWg} per dimension`);
    if (wg.some((n) => n === 0)) return; // nothing to do (empty tensor)
    const bindGroup = this.res.device.createBindGroup({ label: kernel.name, layout: pipeline.getBindGroupLayout(0), entries });
    this.dispatches.push({ label: kernel.name, pipeline, bindGroup, workgroups: wg });
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
  }
}
