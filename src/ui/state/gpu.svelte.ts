// Does this browser have WebGPU? Training needs it; import, selection and export do not.
class GpuState {
  state = $state<'checking' | 'ok' | 'missing'>('checking');
  adapter = $state('');
  reason = $state('');

  async detect(): Promise<void> {
    const nav = navigator as Navigator & { gpu?: GPU };
    if (!nav.gpu) {
      this.state = 'missing';
      this.reason = 'navigator.gpu is not defined: this browser has WebGPU turned off or does not support it.';
      return;
    }
    try {
      const adapter = await nav.gpu.requestAdapter();
      if (!adapter) {
        this.state = 'missing';
        this.reason = 'WebGPU is present but found no usable GPU adapter (blocklisted driver, or hardware acceleration off).';
        return;
      }
      const info = adapter.info;
      this.adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' · ') || 'adapter found';
      this.state = 'ok';
    } catch (err) {
      this.state = 'missing';
      this.reason = `requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

export const gpu = new GpuState();
