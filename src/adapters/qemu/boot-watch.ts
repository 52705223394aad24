// Watches a guest's console for the signs that it will never be reachable: the firmware found
// nothing to boot, the boot loader gave up, the kernel panicked. EC2 shows such an instance as
// `running` with its instance status check failed (reachability `impaired`); the driver reports
// it as an `unreachable` event, once per boot (a reset starts a new boot: rearm()).
export interface UnreachableSign {
  pattern: RegExp;
  /** The event's detail; `$1` is replaced by the pattern's first group. */
  detail: string;
}

export const UNREACHABLE_SIGNS: UnreachableSign[] = [
  // SeaBIOS, after trying the root disk (the only boot device).
  { pattern: /No bootable device/, detail: 'No bootable device.' },
  // OVMF found no boot loader and fell back to its shell (Debian's OVMF; newer ones say so).
  { pattern: /UEFI Interactive Shell|BdsDxe: No bootable option or device was found/, detail: 'No bootable device: the UEFI firmware found no boot loader on the root volume.' },
  // GRUB's core found neither its modules nor its configuration.
  { pattern: /grub rescue>/, detail: 'The boot loader failed: GRUB stopped at its rescue prompt (grub rescue>).' },
  // GRUB with its modules built in but no configuration (its root filesystem is gone): the prompt.
  { pattern: /Minimal BASH-like line editing is supported|\ngrub> /, detail: 'The boot loader failed: GRUB found no configuration and stopped at its prompt (grub>).' },
  { pattern: /Kernel panic - not syncing:? ?([^\r\n]*)\r?\n/, detail: 'Kernel panic - not syncing: $1' },
];

const ESCAPES = /\x1b(\[[0-9;?=]*[A-Za-z]|[()][0-9A-Za-z])/g;
/** Enough of the previous output to match a sign split across two pieces. */
const CARRY = 256;

export class BootWatch {
  private readonly onUnreachable: (detail: string) => void;
  private readonly signs: UnreachableSign[];
  private carry = '';
  private reported = false;

  constructor(onUnreachable: (detail: string) => void, signs = UNREACHABLE_SIGNS) {
    this.onUnreachable = onUnreachable;
    this.signs = signs;
  }

  /** What the last report said, if this boot was reported. */
  detail?: string;

  feed(chunk: Buffer | string): void {
    if (this.reported) return;
    const text = this.carry + (typeof chunk === 'string' ? chunk : chunk.toString('latin1')).replace(ESCAPES, '');
    for (const sign of this.signs) {
      const m = sign.pattern.exec(text);
      if (!m) continue;
      this.reported = true;
      this.carry = '';
      this.detail = sign.detail.replace('$1', (m[1] ?? '').trim());
      this.onUnreachable(this.detail);
      return;
    }
    this.carry = text.slice(-CARRY);
  }

  /** A new boot (the guest was reset): report again if it fails again. */
  rearm(): void {
    this.reported = false;
    this.carry = '';
    this.detail = undefined;
  }

  get failed(): boolean {
    return this.reported;
  }
}
