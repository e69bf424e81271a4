/**
 * What the machine running `npm run kernels` offers its guests: KVM when it
 * works, TCG (QEMU's emulator) otherwise, with the reason in words. The one
 * place this is decided; scripts/kernels.ts prints the choice and passes it to
 * every guest (helpers/kernels/guest.ts takes it as `accel`).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface Accel {
  accel: 'kvm' | 'tcg';
  /** 'KVM', or why not (printed beside "TCG"). */
  why: string;
}

/** Where a GitHub runner's /dev/kvm is opened to its user (the udev rule step). */
const RUNNER_HINT = 'on a GitHub runner the udev rule step of .github/workflows/kernels.yml opens it; elsewhere join the kvm group';

/**
 * KVM needs a device this user can open read-write (QEMU opens it O_RDWR;
 * access(2) would say yes to root even where the open fails, so the device is
 * opened, which creates nothing: a VM is only made by the KVM_CREATE_VM ioctl,
 * Documentation/virt/kvm/api.rst) and a CPU that offers vmx or svm to this
 * machine (a cloud VM without nested virtualisation has the module but no
 * flags). `device` and `cpuinfo` are parameters so that a test can stand for a
 * runner without KVM.
 */
export function chooseAccel(o: { device?: string; cpuinfo?: string } = {}): Accel {
  const device = o.device ?? '/dev/kvm';
  try {
    closeSync(openSync(device, 'r+'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `${device} does not exist (no kvm module on this host, or a container without the device)`
        : code === 'EACCES' || code === 'EPERM'
          ? `${device} is not open to this user (${RUNNER_HINT})`
          : `${device} cannot be opened (${code ?? String(e)})`;
    return { accel: 'tcg', why };
  }
  const cpuinfo = o.cpuinfo ?? readFileSync('/proc/cpuinfo', 'utf8');
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo))
    return { accel: 'tcg', why: `${device} opens but the CPU offers no vmx/svm flag (nested virtualisation is off)` };
  return { accel: 'kvm', why: 'KVM' };
}

/** The accelerator in the words of the run's first line: "KVM" or "TCG (why)". */
export function accelLine(a: Accel): string {
  return a.accel === 'kvm' ? 'KVM' : `TCG (${a.why})`;
}
