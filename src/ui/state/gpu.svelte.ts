// Does this browser have WebGPU? Training needs it; import, selection and export do not.
// Also the adapter's buffer limits, which the memory plan checks a run against before Start:
// the experiment worker's device gets the same adapter's maximum (createGpuContext asks for
// the high-performance adapter and every limit raised to it).
import type { PlanLimits } from '../../experiment/run-memory.ts';

class GpuState {
  state = $state<'checking' | 'ok' | 'missing'>('checking');
  adapter = $state('');
  reason = $state('');
  /** The adapter's maxStorageBufferBindingSize and maxBufferSize (null until found, or without WebGPU). */
  limits = $state.raw<PlanLimits | null>(null);

  async detect(): Promise<void> {
    const nav = navigator as Navigator & { gpu?: GPU };
    if (!nav.gpu) {
      this.state = 'missing';
      this.reason = 'navigator.gpu is not defined: this browser has WebGPU turned off or does not support it.';
      return;
    }
    try {
      const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) {
        this.state = 'missing';
        this.reason = 'WebGPU is present but found no usable GPU adapter (blocklisted driver, or hardware acceleration off).';
        return;
      }
      const info = adapter.info;
      this.adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' · ') || 'adapter found';
      this.limits = { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize };
      this.state = 'ok';
    } catch (err) {
      this.state = 'missing';
      this.reason = `requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

export const gpu = new GpuState();
