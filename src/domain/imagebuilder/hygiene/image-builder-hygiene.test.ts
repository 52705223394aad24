import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import type { IbRecord } from '../../../ports/imagebuilder-repository.ts';
import { Errors, isServiceError } from '../../errors.ts';
import { blocksSharing, hygieneSkipped, shareGateMessage, listImagePackages, listImageScanFindings, PACKAGES_FIELD, storeHygieneReport } from './image-builder-hygiene.ts';
import type { HygieneReport } from './hygiene-types.ts';

const caller = { account: '111111111111', region: 'us-east-1' };
const arn = (name: string, build = 1) => `arn:aws:imagebuilder:us-east-1:111111111111:image/${name}/1.0.0/${build}`;
const PIPELINE = 'arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/nightly';

function imageRecord(name: string, extra: Record<string, unknown> = {}, account = caller.account): IbRecord {
  const now = new Date().toISOString();
  return {
    arn: arn(name), kind: 'image', account, region: 'us-east-1', name, version: '1.0.0', build: 1, state: 'AVAILABLE', createdAt: now, updatedAt: now,
    doc: { arn: arn(name), name, outputResources: { amis: [{ region: 'us-west-2', image: 'ami-0west' }, { region: 'us-east-1', image: 'ami-0east' }] }, ...extra },
  };
}

const report = (imageId: string, severities: HygieneReport['findings'][number]['severity'][]): HygieneReport => ({
  imageId, bytesRead: 1, filesRead: 1, durationMs: 1,
  findings: severities.map((severity, i) => ({ severity, kind: severity === 'HIGH' ? 'ssh-host-key' : 'temp-file', path: `/p${i}`, detail: `d${i}` })),
});

const code = (err: unknown) => (isServiceError(err) ? err.code : String(err));

test('ListImageScanFindings: the stored findings in the wire shape, filtered and paged', async () => {
  const store = new SqliteMetadataStore(':memory:');
  const repo = store.imageBuilder;
  await repo.insert(imageRecord('web', { sourcePipelineArn: PIPELINE }));
  await repo.insert(imageRecord('db'));
  await repo.insert(imageRecord('not-scanned'));
  await repo.insert(imageRecord('theirs', {}, '222222222222'));
  const at = new Date('2026-01-02T03:04:05Z');
  await storeHygieneReport(repo, arn('web'), report('ami-0east', ['HIGH', 'LOW']), at);
  await storeHygieneReport(repo, arn('db'), report('ami-0east', Array(30).fill('LOW')), at);
  await storeHygieneReport(repo, `arn:aws:imagebuilder:us-east-1:222222222222:image/theirs/1.0.0/1`, report('ami-x', ['HIGH']), at);

  const all = await listImageScanFindings(repo, caller, {});
  assert.equal(all.findings!.length, 25, 'a page is 25 at most');
  const rest = await listImageScanFindings(repo, caller, { nextToken: all.nextToken });
  assert.equal(rest.findings!.length, 7);
  assert.equal(rest.nextToken, undefined);

  const high = await listImageScanFindings(repo, caller, { filters: [{ name: 'severity', values: ['HIGH'] }] });
  assert.deepEqual(high.findings, [{
    awsAccountId: '111111111111', imageBuildVersionArn: arn('web'), imagePipelineArn: PIPELINE, type: 'HYGIENE',
    title: 'ssh-host-key: /p0', description: 'd0', severity: 'HIGH', fixAvailable: 'NO', firstObservedAt: at, updatedAt: at,
    remediation: { recommendation: { text: 'Delete /etc/ssh/ssh_host_* before the image is created; each instance generates its own at first boot.' } },
  }]);
  const byPipeline = await listImageScanFindings(repo, caller, { filters: [{ name: 'imagePipelineArn', values: [PIPELINE] }] });
  assert.equal(byPipeline.findings!.length, 2);
  const byImage = await listImageScanFindings(repo, caller, { filters: [{ name: 'imageBuildVersionArn', values: [arn('db')] }], maxResults: 5 });
  assert.equal(byImage.findings!.length, 5);
  assert.deepEqual((await listImageScanFindings(repo, caller, { filters: [{ name: 'vulnerabilityId', values: ['CVE-2024-1'] }] })).findings, []);

  await assert.rejects(listImageScanFindings(repo, caller, { filters: [{ name: 'colour', values: ['x'] }] }), (e) => code(e) === 'InvalidParameterValueException');
  await assert.rejects(listImageScanFindings(repo, caller, { maxResults: 26 }), (e) => code(e) === 'InvalidRequestException');
  await assert.rejects(listImageScanFindings(repo, caller, { nextToken: 'garbage' }), (e) => code(e) === 'InvalidPaginationTokenException');
});

test('ListImagePackages: the AMI in the caller\'s region, read once then kept on the record', async () => {
  const store = new SqliteMetadataStore(':memory:');
  const repo = store.imageBuilder;
  await repo.insert(imageRecord('web'));
  const asked: string[] = [];
  const read = async (ami: string) => {
    asked.push(ami);
    return [{ packageName: 'bash', packageVersion: '5.2' }, { packageName: 'openssh-server', packageVersion: '9.2' }];
  };
  const first = await listImagePackages(repo, caller, { imageBuildVersionArn: arn('web'), maxResults: 1 }, read);
  assert.deepEqual(first.imagePackageList, [{ packageName: 'bash', packageVersion: '5.2' }]);
  const second = await listImagePackages(repo, caller, { imageBuildVersionArn: arn('web'), nextToken: first.nextToken }, read);
  assert.deepEqual(second.imagePackageList, [{ packageName: 'openssh-server', packageVersion: '9.2' }]);
  assert.deepEqual(asked, ['ami-0east'], 'read once, in the caller\'s region');
  assert.equal(((await repo.get(arn('web')))!.doc[PACKAGES_FIELD] as unknown[]).length, 2);

  await repo.insert({ ...imageRecord('building'), doc: { arn: arn('building'), name: 'building' } });
  assert.deepEqual((await listImagePackages(repo, caller, { imageBuildVersionArn: arn('building') }, read)).imagePackageList, []);
  await repo.insert(imageRecord('xfs'));
  await assert.rejects(listImagePackages(repo, caller, { imageBuildVersionArn: arn('xfs') }, async () => { throw Errors.unsupportedOperation('No ext2/3/4 root filesystem was found'); }),
    (e) => code(e) === 'InvalidRequestException' && /No ext2\/3\/4/.test((e as Error).message), 'the scan\'s EC2 errors in Image Builder\'s family');
  await assert.rejects(listImagePackages(repo, caller, { imageBuildVersionArn: arn('nope') }, read), (e) => code(e) === 'ResourceNotFoundException');
  await assert.rejects(listImagePackages(repo, { ...caller, account: '222222222222' }, { imageBuildVersionArn: arn('web') }, read),
    (e) => code(e) === 'ResourceNotFoundException', 'another account\'s image is not found');
  await assert.rejects(listImagePackages(repo, caller, { imageBuildVersionArn: 'arn:aws:imagebuilder:us-east-1:111111111111:image/web/1.0.0' }, read),
    (e) => code(e) === 'InvalidParameterValueException', 'a version ARN without its build');
});

test('the share gate: HIGH findings block sharing unless the recipe is tagged amiforge:hygiene=skip', () => {
  assert.equal(blocksSharing(report('ami-1', ['MEDIUM', 'LOW'])), false);
  assert.equal(blocksSharing(report('ami-1', ['LOW', 'HIGH'])), true);
  assert.equal(hygieneSkipped({ 'amiforge:hygiene': 'skip' }), true);
  assert.equal(hygieneSkipped({ 'amiforge:hygiene': 'SKIP' }), false);
  assert.equal(hygieneSkipped(undefined), false);
  assert.equal(shareGateMessage(report('ami-1', ['HIGH', 'LOW'])),
    'The image ami-1 is not shared outside its account: the hygiene scan found 1 HIGH finding (ssh-host-key /p0). Remove them, or tag the recipe amiforge:hygiene=skip to share anyway.');
});
