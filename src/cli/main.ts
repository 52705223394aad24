// The amiforge command line. Each command has --help; options are parsed once here and handed
// to the code that needs them as a frozen config.
import { Command, Option } from 'commander';
import { VERSION } from '../server/ops.ts';
import { imageCommand } from './image.ts';
import { serveCommand } from './serve.ts';
import { LOG_FORMATS } from '../server/logger.ts';
import { snapshotCommand } from './snapshot.ts';
import { registerMaintenanceCommands } from './maintenance.ts';
import { copySchedulesCommand } from './copy-schedules.ts';
import { lifecyclePoliciesCommand } from './lifecycle-policies.ts';
import { registerStorageCommands } from './storage.ts';
import { BLOCKS_OPTION_HELP } from '../config/blocks.ts';

const program = new Command()
  .name('amiforge')
  .description('A self-hosted Amazon Machine Image service that speaks EC2\'s own APIs.\n'
    + 'Point the aws CLI, boto3, the AWS SDKs or Terraform at it with --endpoint-url.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

program.command('serve')
  .description('Run the API server (EC2 image APIs) on one HTTP endpoint.')
  .option('--host <host>', 'address to listen on; beyond loopback requires --accounts', '127.0.0.1')
  .option('--port <port>', 'TCP port (0 picks a free one)', '4566')
  .option('--data-dir <dir>', 'where metadata and blocks are kept', '.amiforge')
  .option('--blocks <s3-location>', BLOCKS_OPTION_HELP.blocks)
  .option('--s3-endpoint <url>', BLOCKS_OPTION_HELP.s3Endpoint)
  .option('--s3-region <region>', BLOCKS_OPTION_HELP.s3Region)
  .option('--database <url>', 'keep metadata in this PostgreSQL database (postgres://USER:PASSWORD@HOST/DB) instead of SQLite in --data-dir; default: AMIFORGE_DATABASE_URL')
  .option('--accounts <file>', 'accounts and access keys (JSON); enables strict SigV4 verification')
  .option('--operator-token-file <file>', 'with --accounts: a bearer token (the file\'s contents) that operators and Prometheus send to /_amiforge/* and /metrics (docs/operators.md)')
  .option('--catalog <file>', 'public image catalogue (JSON); defaults to the shipped catalog/default.json')
  .option('--enable-reset', 'allow POST /_amiforge/reset to empty the store (for test suites)', false)
  .addOption(new Option('--log-level <level>', 'log verbosity').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
  .addOption(new Option('--log-format <format>', 'readable lines on a terminal and JSON lines otherwise (auto), or always one of them').choices([...LOG_FORMATS]).default('auto'))
  .option('--instance-limit <n>', 'instances (not terminated) an account may have per region', '1000')
  .addOption(new Option('--hypervisor <driver>', 'what runs instances: sim boots no guest but reads and writes the real volumes; qemu boots real guests (needs scripts/install-qemu.sh and scripts/build-base-image.sh)').choices(['sim', 'qemu']).default('sim'))
  .option('--sim-boot-ms <ms>', 'how long a simulated guest takes to boot (pending to running)', '300')
  .option('--forward-port-offset <n>', 'qemu: reach a guest port forwarded to the host at guest port + N (for ports below 1024 without root: 10000 makes 22 reachable at 10022)', '0')
  .option('--kms-root-key-file <file>', 'the KMS root key that wraps all KMS key material (32 bytes, base64 or raw)')
  .option('--public-address-range <cidr>', 'host addresses given to running instances as their PublicIpAddress; the ports their security groups allow are forwarded there', '127.100.0.0/16')
  .option('--allow-public-forwarding', 'allow a --public-address-range beyond loopback (guest ports reachable from other machines)', false)
  .option('--copy-schedules <file>', 'scheduled cross-region image copies (JSON; see docs/copy-schedules.md), checked at start-up')
  .option('--volume-write-buffer <blocks>', 'dirty 512 KiB blocks a volume in use keeps in memory until the guest flushes (0: store every write at once)', '32')
  .option('--node-id <id>', 'this node\'s name among several serve processes on one store (default: node-<8 hex>, made at the first start and kept in DATA_DIR/node-id)')
  .option('--advertise-url <url>', 'where other nodes reach this one to forward requests about its instances (default: http://HOST:PORT as listened)')
  .option('--lease-seconds <s>', 'a node without a heartbeat for this long is gone: its instances are reported impaired, its background work taken over', '30')
  .option('--console-session-hours <h>', 'how long a web console sign-in lasts (a session expires this long after it began)', '12')
  .addHelpText('after', `
Without --accounts the server runs in dev mode: any access key is accepted and signatures are not
checked; a 12-digit access key id acts as that account, anything else as 123456789012.

KMS key material is stored only wrapped under a root key: --kms-root-key-file, else the
AMIFORGE_KMS_ROOT_KEY environment variable (base64 of 32 bytes), else DATA_DIR/kms-root.key,
generated (mode 0600) on first start. Keep a copy: without it no KMS key can be used.

Example:
  amiforge serve --port 4566 &
  aws --endpoint-url http://127.0.0.1:4566 --region us-east-1 ec2 describe-images --owners amazon`)
  .action(serveCommand);

registerMaintenanceCommands(program);
registerStorageCommands(program);

program.addCommand(snapshotCommand());
program.addCommand(imageCommand());
program.addCommand(copySchedulesCommand());
program.addCommand(lifecyclePoliciesCommand());

await program.parseAsync(process.argv);
