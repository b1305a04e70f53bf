// What to tell a user whose command found no WebGPU adapter in Node. Dawn (the `webgpu`
// package) reaches the GPU — or SwiftShader, chromium's software driver — through the Vulkan
// loader libvulkan.so.1, which a fresh Debian machine lacks even with chromium installed
// (chromium keeps a private copy in /usr/lib/chromium/ that the dynamic linker never finds).
// Dawn then only prints "Couldn't load Vulkan" and finds no adapter, and the engine's message
// (src/engine/device.ts) suggests a Vulkan driver or chromium. When the loader is missing the
// CLI says instead which Debian package provides it. Whether it is missing is decided by
// looking where the dynamic linker looks, through a file probe (pure, so tests can fake it).
import { existsSync, readFileSync } from 'node:fs';

export interface FileProbe {
  exists(path: string): boolean;
  /** The file's bytes as text (latin1 is fine), or undefined when it cannot be read. */
  readText(path: string): string | undefined;
}

export const VULKAN_LOADER = 'libvulkan.so.1';

/** Debian's multiarch directory names by Node's process.arch. */
const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  ia32: 'i386-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** SwiftShader's Vulkan driver as Debian's and Ubuntu's chromium install it (device.ts lists the same files). */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

/** The directories the dynamic linker searches for a library: LD_LIBRARY_PATH, then the
 *  system's (Debian multiarch first). */
export function libraryDirs(ldLibraryPath: string | undefined, arch: string): string[] {
  const triple = MULTIARCH[arch];
  const system = [...(triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : []), '/usr/local/lib', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
  return [...(ldLibraryPath ?? '').split(':').filter((d) => d !== ''), ...system];
}

/** Where libvulkan.so.1 is visible to the dynamic linker, or undefined: a file in one of the
 *  search directories, or an entry in the linker's cache (/etc/ld.so.cache, which also covers
 *  directories named in /etc/ld.so.conf.d). */
export function findVulkanLoader(probe: FileProbe, dirs: readonly string[]): string | undefined {
  for (const d of dirs) {
    const p = `${d.replace(/\/+$/, '')}/${VULKAN_LOADER}`;
    if (probe.exists(p)) return p;
  }
  return probe.readText('/etc/ld.so.cache')?.includes(VULKAN_LOADER) ? '/etc/ld.so.cache' : undefined;
}

export interface GpuSituation {
  platform: string;
  /** Where the Vulkan loader was found (undefined: not found). */
  loader?: string;
  /** The SwiftShader driver file, when chromium installed one. */
  swiftshader?: string;
  dirs: readonly string[];
}

export function gpuSituation(probe: FileProbe, env: { LD_LIBRARY_PATH?: string }, platform: string, arch: string): GpuSituation {
  const dirs = libraryDirs(env.LD_LIBRARY_PATH, arch);
  return { platform, dirs, loader: platform === 'linux' ? findVulkanLoader(probe, dirs) : undefined, swiftshader: SWIFTSHADER_ICDS.find((f) => probe.exists(f)) };
}

/** The advice for "no WebGPU adapter" in this situation, or undefined when the engine's own
 *  message says it best (not Linux, or the loader is there). */
export function noAdapterAdvice(s: GpuSituation): string | undefined {
  if (s.platform !== 'linux' || s.loader) return undefined;
  const shown = s.dirs.filter((d) => !d.startsWith('/lib')).slice(0, 3).join(', ');
  return (
    `No WebGPU adapter found: Dawn (WebGPU in Node) could not load the Vulkan loader ${VULKAN_LOADER}, which is not installed ` +
    `(not in ${shown}, … nor in /etc/ld.so.cache; chromium's private copy is not used). ` +
    `Install Debian's libvulkan1 package: sudo apt-get install libvulkan1` +
    (s.swiftshader
      ? `. SwiftShader, the software driver chromium installed (${s.swiftshader}), is then used when there is no GPU.`
      : `; on a machine without a GPU also install chromium (sudo apt-get install chromium), which ships SwiftShader, the software Vulkan driver used automatically.`)
  );
}

/** The engine's message for a failed adapter request (src/engine/device.ts createGpuContext). */
const NO_ADAPTER = /No WebGPU adapter found/;

/** An error message as the CLI prints it: a missing adapter explained by the machine's state. */
export function adviseGpuError(message: string, s: () => GpuSituation): string {
  if (!NO_ADAPTER.test(message)) return message;
  return noAdapterAdvice(s()) ?? message;
}

/** The real file system, for the CLI. */
export const nodeProbe: FileProbe = {
  exists: (p) => existsSync(p),
  readText: (p) => {
    try {
      return readFileSync(p, 'latin1');
    } catch {
      return undefined;
    }
  },
};

/** This machine's situation (Node). */
export const currentGpuSituation = (): GpuSituation => gpuSituation(nodeProbe, process.env, process.platform, process.arch);
