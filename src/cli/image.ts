// `amiforge image import`: a disk image to a registered AMI (upload as a snapshot, then
// RegisterImage with that snapshot as the root device).
import { Command, Option } from 'commander';
import {
  collectTag, CONNECTION_HELP, makeClients, positiveInt, runCommand, withConnectionOptions, type Clients,
} from './aws.ts';
import { uploadFlags, withUploadDisplay, type UploadFlags } from './snapshot.ts';
import { registerScanCommands } from './image-scan.ts';

interface ImportFlags extends UploadFlags {
  name: string;
  architecture: 'x86_64' | 'arm64' | 'i386';
  bootMode?: 'legacy-bios' | 'uefi' | 'uefi-preferred';
}

export function imageCommand(): Command {
  const image = new Command('image').description('Make AMIs from disk images; scan them.');

  withConnectionOptions(image.command('import')
    .description('Upload a disk image as a snapshot and register it as an AMI (HVM, ENA, root device /dev/xvda); prints the image id.')
    .argument('<file>', 'the disk image (raw; qcow2, vmdk, vhdx and vdi through qemu-img)')
    .requiredOption('--name <name>', 'the AMI name (3 to 128 characters)')
    .option('--description <text>', 'image description (the snapshot gets it too)')
    .addOption(new Option('--architecture <arch>', 'the image architecture').choices(['x86_64', 'arm64', 'i386']).default('x86_64'))
    .addOption(new Option('--boot-mode <mode>', 'the boot mode (default: the instance type\'s)').choices(['legacy-bios', 'uefi', 'uefi-preferred']))
    .option('--parent <snapshot-id>', 'upload incrementally against this snapshot (e.g. the previous version\'s root)')
    .option('--size <gib>', 'root volume size in GiB (default: the file size rounded up)', positiveInt('--size', 65536))
    .option('--tag <key=value>', 'snapshot tag (repeatable)', collectTag)
    .option('--concurrency <n>', 'blocks sent at once', positiveInt('--concurrency', 256), 16)
    .option('--no-resume', 'ignore the journal of an interrupted upload'))
    .addHelpText('after', `
The upload works as 'amiforge snapshot upload' does (zero blocks skipped, resumable). The image
is registered with EnaSupport, virtualization hvm and the snapshot mapped at /dev/xvda.
${CONNECTION_HELP}

Example:
  amiforge image import disk.qcow2 --name web-2024-06-01 --description "web server" --architecture x86_64`)
    .action(async (file: string, flags: ImportFlags) => {
      let clients: Clients | undefined;
      await runCommand('image import', () => clients?.endpoint ?? flags.endpointUrl, async () => {
        clients = await makeClients(flags, flags.concurrency);
        const c = clients;
        const { importImageDetailed } = await import('../client/index.ts');
        const { imageId, snapshotId } = await withUploadDisplay(file, (hooks) => importImageDetailed({
          file, ebs: c.ebs, ec2: c.ec2, name: flags.name, description: flags.description,
          architecture: flags.architecture, bootMode: flags.bootMode, ...uploadFlags(flags), ...hooks,
        }));
        process.stderr.write(`registered ${imageId} (${flags.name}) with root snapshot ${snapshotId}\n`);
        process.stdout.write(`${imageId}\n`);
      });
    });

  registerScanCommands(image);
  return image;
}
