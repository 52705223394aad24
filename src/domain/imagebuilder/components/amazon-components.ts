// Amazon-managed components as amiforge ships them: the well-known names of Image Builder's own
// Linux components, with documents written for amiforge's guests, which have no network. Their
// scripts avoid lines the simulator's session reads as a failure (`exit N` or `false` on a line of
// their own), so they pass on the simulator too.
//
// amiforge-hygiene-scan-linux is amiforge's own test component: its one step only says where the
// scan happens. The build workflow recognises the component by name and runs the offline hygiene
// scan of the new image (`amiforge image scan`) instead of running the step in the test instance.
import type { Component, ComponentParameterDetail } from '../../../protocol/imagebuilder/types.generated.ts';
import { AMAZON_OWNER, ibArn } from '../arns.ts';
import { componentParameters, parseComponentDocument } from './document.ts';

/** The name the build workflow recognises to run the offline hygiene scan. */
export const HYGIENE_SCAN_COMPONENT = 'amiforge-hygiene-scan-linux';

interface ManagedComponent { name: string; version: string; type: 'BUILD' | 'TEST'; description: string; data: string }

const UPDATE_LINUX = `name: update-linux
description: Applies the package updates the image's package cache holds (the guest has no network).
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: UpdateOS
        action: ExecuteBash
        timeoutSeconds: 3600
        inputs:
          commands:
            - |
              export DEBIAN_FRONTEND=noninteractive
              echo "update-linux: amiforge guests have no network, so only what the package cache holds can be applied"
              if command -v apt-get >/dev/null 2>&1; then
                if apt-get -y -q --no-download --ignore-missing -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade; then
                  echo "update-linux: apt-get applied the upgrades found in its cache (if any)"
                else
                  echo "update-linux: apt-get could not apply anything from its cache; nothing was changed"
                fi
              elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
                tool=$(command -v dnf || command -v yum)
                if "$tool" -y -q -C upgrade; then
                  echo "update-linux: $tool applied the upgrades found in its cache (if any)"
                else
                  echo "update-linux: $tool could not apply anything from its cache; nothing was changed"
                fi
              else
                echo "update-linux: no apt-get, dnf or yum in this image; nothing to update"
              fi
`;

const REBOOT_LINUX = `name: reboot-linux
description: Reboots the instance.
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Reboot
        action: Reboot
        onFailure: Abort
        maxAttempts: 2
        inputs:
          delaySeconds: 0
`;

const SIMPLE_BOOT_TEST_LINUX = `name: simple-boot-test-linux
description: Checks that the instance boots and answers, before and after a reboot.
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: CheckBoot
        action: ExecuteBash
        inputs:
          commands:
            - echo "booted; uptime $(cut -d ' ' -f 1 /proc/uptime) s; kernel $(uname -r)"
      - name: Reboot
        action: Reboot
        inputs:
          delaySeconds: 0
      - name: CheckBootAfterReboot
        action: ExecuteBash
        inputs:
          commands:
            - echo "booted again; uptime $(cut -d ' ' -f 1 /proc/uptime) s"
`;

const REBOOT_TEST_LINUX = `name: reboot-test-linux
description: Checks that a reboot really restarts the instance (its boot id changes).
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: RecordBootId
        action: ExecuteBash
        inputs:
          commands:
            - cat /proc/sys/kernel/random/boot_id
      - name: Reboot
        action: Reboot
        inputs:
          delaySeconds: 0
      - name: CompareBootId
        action: ExecuteBash
        inputs:
          commands:
            - before='{{ test.RecordBootId.outputs.stdout }}'
            - now=$(cat /proc/sys/kernel/random/boot_id)
            - '[ "$before" != "$now" ] || { echo "the boot id did not change: the instance did not reboot" >&2; exit 1; }'
            - echo "rebooted (boot id $before, now $now)"
`;

const HYGIENE_SCAN_LINUX = `name: ${HYGIENE_SCAN_COMPONENT}
description: amiforge's offline hygiene scan of the new image (keys, credentials, histories), run by the build workflow outside the guest.
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: HygieneScan
        action: ExecuteBash
        inputs:
          commands:
            - echo "The hygiene scan reads the image's snapshot offline; the build workflow runs it in place of this step."
`;

const MANAGED: ManagedComponent[] = [
  { name: 'update-linux', version: '1.0.2', type: 'BUILD', description: 'Applies the updates the image\'s package cache holds (amiforge guests have no network).', data: UPDATE_LINUX },
  { name: 'reboot-linux', version: '1.0.1', type: 'BUILD', description: 'Reboots the instance.', data: REBOOT_LINUX },
  { name: 'simple-boot-test-linux', version: '1.0.0', type: 'TEST', description: 'Checks that the instance boots and answers, before and after a reboot.', data: SIMPLE_BOOT_TEST_LINUX },
  { name: 'reboot-test-linux', version: '1.0.0', type: 'TEST', description: 'Checks that a reboot restarts the instance.', data: REBOOT_TEST_LINUX },
  { name: HYGIENE_SCAN_COMPONENT, version: '1.0.0', type: 'TEST', description: 'amiforge\'s offline hygiene scan of the image: SSH keys, credentials, histories and other leftovers.', data: HYGIENE_SCAN_LINUX },
];

/** When these documents were written, as their dateCreated. */
const DATE_CREATED = '2026-12-01T00:00:00.000Z';

/**
 * Each document's parameters, read on first use: resolving and listing components asks for the
 * catalogue on every request, and the documents never change.
 */
let parameters: Map<string, ComponentParameterDetail[]> | undefined;
const parametersOf = (m: ManagedComponent): ComponentParameterDetail[] =>
  (parameters ??= new Map(MANAGED.map((x) => [x.name, componentParameters(parseComponentDocument(x.data))]))).get(m.name)!;

/** Amazon's components in `region`, as GetComponent answers them (build version 1). */
export function amazonComponents(region: string): Component[] {
  return MANAGED.map((m) => ({
    arn: ibArn({ region, owner: AMAZON_OWNER, type: 'component', name: m.name, version: m.version, build: 1 }),
    name: m.name,
    version: m.version,
    description: m.description,
    type: m.type,
    platform: 'Linux',
    state: { status: 'ACTIVE' },
    parameters: parametersOf(m),
    owner: 'Amazon',
    data: m.data,
    encrypted: true,
    dateCreated: DATE_CREATED,
    tags: {},
  }));
}
