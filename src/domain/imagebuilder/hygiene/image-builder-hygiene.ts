// Image Builder's views of the hygiene scan: ListImagePackages (an image build version's AMI in
// the caller's region, its packages read offline, kept on the image record once read) and
// ListImageScanFindings (the findings the build workflow stored on its image records).
//
// How findings get there (docs/hygiene-scan.md): the build workflow scans the output AMI before
// distributing it and stores the report on the image record under `hygieneScan` (storeHygieneReport);
// ListImageScanFindings only reads them, it never starts a scan. Each finding becomes an
// ImageScanFinding of type `HYGIENE` with the scan's severity.
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  Image, ImageScanFinding, ListImagePackagesRequest, ListImagePackagesResponse, ListImageScanFindingsRequest, ListImageScanFindingsResponse,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { Caller } from '../../context.ts';
import { Errors, isServiceError } from '../../errors.ts';
import { requireIbArn } from '../arns.ts';
import { page as indexPage } from '../resources/records.ts';
import type { HygieneFinding, HygieneReport, InstalledPackage } from './hygiene-types.ts';

/** The private field of an image record that holds its scan. */
export const HYGIENE_FIELD = 'hygieneScan';
/** The private field that keeps an image's package list once read. */
export const PACKAGES_FIELD = 'installedPackages';

export interface StoredHygiene { scannedAt: string; report: HygieneReport }

export const SCAN_FINDING_TYPE = 'HYGIENE';

/** The recipe tag that opts a build out of the scan and its share gate (value `skip`). */
export const HYGIENE_TAG = 'amiforge:hygiene';
export const hygieneSkipped = (recipeTags: Record<string, string> | undefined) => recipeTags?.[HYGIENE_TAG] === 'skip';
/** The share gate: a distribution that shares outside the account fails when the image has a HIGH finding. */
export const blocksSharing = (report: HygieneReport) => report.findings.some((f) => f.severity === 'HIGH');

/** Why the gate stopped a distribution: the HIGH findings, for the image's status reason and the workflow's log. */
export function shareGateMessage(report: HygieneReport): string {
  const high = report.findings.filter((f) => f.severity === 'HIGH');
  return `The image ${report.imageId} is not shared outside its account: the hygiene scan found ${high.length} HIGH finding${high.length === 1 ? '' : 's'} `
    + `(${high.map((f) => `${f.kind} ${f.path}`).join('; ')}). Remove them, or tag the recipe ${HYGIENE_TAG}=skip to share anyway.`;
}
const FILTER_NAMES = ['imageBuildVersionArn', 'imagePipelineArn', 'vulnerabilityId', 'severity'];

/** Stores a scan's report on the image build version's record (the build workflow calls this). */
export async function storeHygieneReport(repo: ImageBuilderRepository, imageArn: string, report: HygieneReport, now: Date): Promise<void> {
  const stored: StoredHygiene = { scannedAt: now.toISOString(), report };
  await repo.update(imageArn, (r) => ({ ...r, doc: { ...r.doc, [HYGIENE_FIELD]: stored } }));
}

const REMEDIATION: Record<string, string> = {
  'ssh-host-key': 'Delete /etc/ssh/ssh_host_* before the image is created; each instance generates its own at first boot.',
  'authorized-keys': 'Remove authorized_keys files; cloud-init installs the launch key pair\'s key at first boot.',
  'shell-history': 'Delete shell histories (and unset HISTFILE in build scripts).',
  'private-key': 'Remove the private key from the image; deliver it at launch (user data, Secrets Manager) if instances need it.',
  'cloud-credentials': 'Remove the credentials and rotate them; give instances an instance profile role instead.',
  'secret-in-environment': 'Remove the secret from the environment file and rotate it; read it at run time instead.',
  'root-password': 'Lock the root password (passwd -l root); log in with key pairs.',
  'machine-id': 'Empty /etc/machine-id (truncate, do not delete) so each instance gets its own.',
  'cloud-init-instance': 'Run cloud-init clean (or delete /var/lib/cloud/instances) before the image is created.',
  'temp-file': 'Empty /tmp and /var/tmp before the image is created.',
};

export function toScanFinding(record: IbRecord, stored: StoredHygiene, f: HygieneFinding): ImageScanFinding {
  const doc = record.doc as Image;
  const text = REMEDIATION[f.kind];
  return {
    awsAccountId: record.account,
    imageBuildVersionArn: record.arn,
    ...(doc.sourcePipelineArn ? { imagePipelineArn: doc.sourcePipelineArn } : {}),
    type: SCAN_FINDING_TYPE,
    title: `${f.kind}: ${f.path}`,
    description: f.detail,
    severity: f.severity,
    ...(text ? { remediation: { recommendation: { text } } } : {}),
    firstObservedAt: new Date(stored.scannedAt),
    updatedAt: new Date(stored.scannedAt),
    fixAvailable: 'NO',
  };
}

/** The shared page, after Image Builder's range check of maxResults (1 to 25) for these two lists. */
function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { items: T[]; nextToken?: string } {
  const size = maxResults ?? 25;
  if (!Number.isInteger(size) || size < 1 || size > 25) throw Errors.ibInvalidRequest(`The value of maxResults must be between 1 and 25; got ${maxResults}.`);
  return indexPage(items, size, nextToken);
}

export async function listImageScanFindings(repo: ImageBuilderRepository, caller: Caller, req: ListImageScanFindingsRequest): Promise<ListImageScanFindingsResponse> {
  const filters = req.filters ?? [];
  if (filters.length > 1) throw Errors.ibInvalidRequest('Only one filter can be given.');
  for (const f of filters) {
    if (!f.name || !FILTER_NAMES.includes(f.name)) throw Errors.ibInvalidParameterValue(`The filter name '${f.name}' is not valid; use one of ${FILTER_NAMES.join(', ')}.`);
    if (f.values?.length !== 1) throw Errors.ibInvalidRequest(`The filter '${f.name}' takes exactly one value.`);
  }
  const records = await repo.list({ kind: 'image', account: caller.account, region: caller.region });
  const findings: ImageScanFinding[] = [];
  for (const r of records) {
    const stored = r.doc[HYGIENE_FIELD] as StoredHygiene | undefined;
    if (!stored) continue;
    for (const f of stored.report.findings) findings.push(toScanFinding(r, stored, f));
  }
  const matching = findings.filter((f) => filters.every(({ name, values }) => {
    const want = values![0];
    if (name === 'imageBuildVersionArn') return f.imageBuildVersionArn === want;
    if (name === 'imagePipelineArn') return f.imagePipelineArn === want;
    if (name === 'severity') return f.severity === want;
    return f.packageVulnerabilityDetails?.vulnerabilityId === want;
  }));
  const { items, nextToken } = page(matching, req.maxResults, req.nextToken);
  return { findings: items, ...(nextToken ? { nextToken } : {}) };
}

/** The image build version the caller owns in its region, and its AMI there (if distributed). */
export async function imageBuildVersionAmi(repo: ImageBuilderRepository, caller: Caller, arn: string): Promise<{ record: IbRecord; amiId?: string }> {
  const parsed = requireIbArn(arn, 'image', 'imageBuildVersionArn');
  if (parsed.version === undefined || parsed.build === undefined || /x/.test(parsed.version)) {
    throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'imageBuildVersionArn' is not a valid image build version ARN: ${arn}`);
  }
  const record = await repo.get(arn);
  if (!record || record.kind !== 'image' || record.account !== caller.account || record.region !== caller.region) {
    throw Errors.ibNotFound(`The resource ${arn} does not exist.`);
  }
  const ami = (record.doc as Image).outputResources?.amis?.find((a) => a.region === caller.region && a.image);
  return { record, amiId: ami?.image };
}

export async function listImagePackages(
  repo: ImageBuilderRepository, caller: Caller, req: ListImagePackagesRequest,
  read: (amiId: string) => Promise<InstalledPackage[]>,
): Promise<ListImagePackagesResponse> {
  const { record, amiId } = await imageBuildVersionAmi(repo, caller, req.imageBuildVersionArn);
  let packages = record.doc[PACKAGES_FIELD] as InstalledPackage[] | undefined;
  if (!packages) {
    // No AMI in the region yet (the build is still running, or failed): nothing to list.
    if (!amiId) packages = [];
    else {
      try {
        packages = await read(amiId);
      } catch (err) {
        // The scan's EC2 errors (no ext4 root filesystem, the KMS key refused) in Image Builder's words.
        if (isServiceError(err) && err.status < 500) throw Errors.ibInvalidRequest(`The packages of ${amiId} cannot be read: ${err.message}`);
        throw err;
      }
      const kept = packages;
      await repo.update(record.arn, (r) => ({ ...r, doc: { ...r.doc, [PACKAGES_FIELD]: kept } }));
    }
  }
  const { items, nextToken } = page(packages, req.maxResults, req.nextToken);
  return { imagePackageList: items, ...(nextToken ? { nextToken } : {}) };
}
