// Wiring of Image Builder's builds: the BuildService on EC2's domain services, with the component
// executor and the guest access the hypervisor calls for (the simulator's session, or SSH to a
// QEMU guest's forwarded address). app.ts calls this once.
import type { ServerConfig } from '../config/config.ts';
import { simGuestAccess } from '../adapters/sim/sim-guest-session.ts';
import { sshGuestAccess } from '../adapters/qemu/ssh-guest-access.ts';
import { BuildService } from '../domain/imagebuilder/builds/build-service.ts';
import type { BuildServiceDeps, HygieneGate } from '../domain/imagebuilder/builds/build-types.ts';
import { ec2ServicesBuildEc2, type BuildEc2Services } from '../domain/imagebuilder/builds/ec2-services-build-ec2.ts';
import { amazonComponents } from '../domain/imagebuilder/components/amazon-components.ts';
import { runComponents } from '../domain/imagebuilder/components/executor.ts';
import type { Clock } from '../ports/clock.ts';
import { randomIds } from '../ports/ids.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Logger } from './logger.ts';
import type { LeaseKeeper } from '../domain/cluster/lease-keeper.ts';

/** How often a build looks at an instance or image it waits for (the store, in process: cheap). */
const POLL_MS = { sim: 10, qemu: 250 };
/** Pause between SSH connection rounds while a guest boots. */
const SSH_RETRY_MS = 1000;

export function createBuildService(d: {
  config: ServerConfig; store: MetadataStore; ec2: BuildEc2Services; clock: Clock; log: Logger; hygiene?: HygieneGate; leases?: LeaseKeeper;
  publishParameter?: BuildServiceDeps['publishParameter'];
}): BuildService {
  const driver = d.config.hypervisor.driver;
  return new BuildService({
    records: d.store.imageBuilder, clock: d.clock, ids: randomIds,
    ec2: ec2ServicesBuildEc2(d.ec2, { pollMs: POLL_MS[driver] }),
    runComponents,
    guestAccess: driver === 'qemu' ? sshGuestAccess({ retryDelayMs: SSH_RETRY_MS }) : simGuestAccess(),
    hygiene: d.hygiene,
    managedComponents: amazonComponents,
    onError: (what, err) => d.log.error({ err }, `${what} failed`),
    leases: d.leases,
    publishParameter: d.publishParameter,
  });
}
