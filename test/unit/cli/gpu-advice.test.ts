// No WebGPU adapter in Node: when the Vulkan loader (libvulkan.so.1) is not where the dynamic
// linker looks, the CLI names Debian's libvulkan1 instead of repeating the engine's "install
// chromium"; otherwise the engine's message stands. The machine is a fake file probe.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adviseGpuError, findVulkanLoader, gpuSituation, libraryDirs, noAdapterAdvice, type FileProbe } from '../../../src/cli/gpu-advice.ts';
import { main } from '../../../src/cli/main.ts';
import { createGpuContext } from '../../../src/engine/device.ts';

const machine = (files: string[], ldCache = ''): FileProbe => ({
  exists: (p) => files.includes(p),
  readText: (p) => (p === '/etc/ld.so.cache' ? ldCache : undefined),
});
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
// A fresh Debian machine with chromium: SwiftShader and chromium's private loader, no libvulkan1.
const freshWithChromium = machine([SWIFTSHADER, '/usr/lib/chromium/libvulkan.so.1']);
const situation = (probe: FileProbe, env: { LD_LIBRARY_PATH?: string } = {}, platform = 'linux', arch = 'x64') => gpuSituation(probe, env, platform, arch);

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('the Vulkan loader', () => {
  it('is looked for where the dynamic linker looks: LD_LIBRARY_PATH, the multiarch and system directories, ld.so.cache', () => {
    expect(libraryDirs('/opt/vk/lib::/x', 'x64')).toEqual(['/opt/vk/lib', '/x', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/local/lib', '/lib64', '/usr/lib64', '/lib', '/usr/lib']);
    expect(libraryDirs(undefined, 'arm64').slice(0, 2)).toEqual(['/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu']);
    const dirs = libraryDirs('/opt/vk/lib/', 'x64');
    expect(findVulkanLoader(machine(['/usr/lib/x86_64-linux-gnu/libvulkan.so.1']), dirs)).toBe('/usr/lib/x86_64-linux-gnu/libvulkan.so.1');
    expect(findVulkanLoader(machine(['/opt/vk/lib/libvulkan.so.1']), dirs)).toBe('/opt/vk/lib/libvulkan.so.1');
    expect(findVulkanLoader(machine([], '\0ld.so-1.7.0\0libvulkan.so.1\0/opt/other/libvulkan.so.1\0'), dirs)).toBe('/etc/ld.so.cache');
    // chromium's private copy is invisible to the linker, and so to Dawn.
    expect(findVulkanLoader(freshWithChromium, dirs)).toBeUndefined();
    expect(findVulkanLoader(machine(['/usr/lib/x86_64-linux-gnu/libvulkan.so']), dirs)).toBeUndefined();
  });

  it('missing: the advice names libvulkan1, and chromium only when SwiftShader is missing too', () => {
    const withChromium = noAdapterAdvice(situation(freshWithChromium))!;
    expect(withChromium).toMatch(/could not load the Vulkan loader libvulkan\.so\.1, which is not installed/);
    expect(withChromium).toMatch(/Install Debian's libvulkan1 package: sudo apt-get install libvulkan1\. SwiftShader, the software driver chromium installed \(\/usr\/lib\/chromium\/vk_swiftshader_icd\.json\), is then used/);
    expect(withChromium).not.toMatch(/install chromium/);
    const bare = noAdapterAdvice(situation(machine([])))!;
    expect(bare).toMatch(/sudo apt-get install libvulkan1; on a machine without a GPU also install chromium \(sudo apt-get install chromium\)/);
  });

  it('present, or not Linux: no advice (the engine message stands)', () => {
    expect(noAdapterAdvice(situation(machine([SWIFTSHADER, '/usr/lib/x86_64-linux-gnu/libvulkan.so.1'])))).toBeUndefined();
    expect(noAdapterAdvice(situation(machine(['/opt/vk/libvulkan.so.1']), { LD_LIBRARY_PATH: '/opt/vk' }))).toBeUndefined();
    expect(noAdapterAdvice(situation(machine([]), {}, 'darwin', 'arm64'))).toBeUndefined();
    expect(adviseGpuError('No WebGPU adapter found. In Node, install …', () => situation(machine(['/lib/x86_64-linux-gnu/libvulkan.so.1'])))).toBe('No WebGPU adapter found. In Node, install …');
  });

  it("replaces the engine's own no-adapter error, and only that error", async () => {
    // An adapter request that finds nothing, as Dawn without its loader answers.
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    const engineMessage = await createGpuContext().then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    expect(engineMessage).toMatch(/chromium/);
    const advised = adviseGpuError(engineMessage, () => situation(freshWithChromium));
    expect(advised).toMatch(/^No WebGPU adapter found: .*sudo apt-get install libvulkan1\./);
    expect(advised).not.toMatch(/chromium package/);
    const probed = vi.fn(() => situation(freshWithChromium));
    expect(adviseGpuError('model path x does not exist', probed)).toBe('model path x does not exist');
    expect(probed).not.toHaveBeenCalled();
  });

  it('atlas prints the advice when a command finds no adapter', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    const dir = mkdtempSync(path.join(tmpdir(), 'atlas-gpu-advice-'));
    const batch = path.join(dir, 'batch.json');
    writeFileSync(batch, JSON.stringify({ input_ids: [[1, 2, 3]], labels: [[2, 3, 4]], weights: [[1, 1, 1]] }));
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
    const code = await main(['grad', '--model', 'models/base', '--batch', batch, '--out', path.join(dir, 'g.safetensors')], { gpuSituation: () => situation(freshWithChromium) });
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(/^atlas grad: No WebGPU adapter found: Dawn \(WebGPU in Node\) could not load the Vulkan loader libvulkan\.so\.1.*sudo apt-get install libvulkan1/);
  });
});
