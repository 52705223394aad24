// The console signs of a boot that failed, as SeaBIOS, OVMF, GRUB and Linux print them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootWatch } from './boot-watch.ts';

const watch = () => {
  const details: string[] = [];
  return { details, w: new BootWatch((d) => details.push(d)) };
};

test('SeaBIOS with nothing to boot, through its escape sequences, once', () => {
  const { details, w } = watch();
  w.feed('\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\nBooting from Hard Disk...\r\nBoot failed: not a bootable disk\r\n\r\n');
  assert.deepEqual(details, []);
  w.feed('No bootable ');
  w.feed('device.\r\n');
  w.feed('No bootable device.\r\n');
  assert.deepEqual(details, ['No bootable device.']);
  assert.ok(w.failed);
  w.rearm();
  w.feed('No bootable device.');
  assert.equal(details.length, 2, 'a new boot is watched again');
});

test('OVMF falling to its shell, GRUB rescue, a kernel panic; a good boot says nothing', () => {
  for (const [text, expected] of [
    ['BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0): Not Found\r\nUEFI Interactive Shell v2.2\r\n', /UEFI firmware found no boot loader/],
    ['error: unknown filesystem.\r\nEntering rescue mode...\r\ngrub rescue> ', /rescue prompt/],
    ['error: no such device: 0d3b1a6e.\r\n   Minimal BASH-like line editing is supported. For the first word, TAB\r\n\r\ngrub> ', /stopped at its prompt \(grub>\)/],
    ['[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n', /^Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)$/],
  ] as const) {
    const { details, w } = watch();
    w.feed(text);
    assert.equal(details.length, 1, text);
    assert.match(details[0], expected);
  }
  const { details, w } = watch();
  w.feed('Booting from Hard Disk...\r\nLinux version 6.1.0\r\namiforge: boot finished\r\n');
  assert.deepEqual(details, []);
});
