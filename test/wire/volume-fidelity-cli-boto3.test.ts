// EBS volume types through the aws CLI and boto3: create-volume and describe-volumes report gp3's
// IOPS and throughput, modify-volume and describe-volumes-modifications return the throughput
// pair, per-type mistakes fail with EC2's codes as each client shows them, and a copied
// snapshot reports vol-ffffffff.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, cliFails, cliOk, devCredentials } from '../support/clients.ts';

let server: RunningServer;
const ME = devCredentials('888888888888');
const cli = (...args: string[]) => awsCli(server.endpoint, ME, args);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('aws CLI', () => {
  test('create-volume gp3, modify-volume to more throughput, describe-volumes-modifications', async () => {
    const v = await cliOk(cli('ec2', 'create-volume', '--availability-zone', 'us-east-1a', '--size', '20', '--volume-type', 'gp3'));
    assert.deepEqual([v.VolumeType, v.Iops, v.Throughput, v.MultiAttachEnabled], ['gp3', 3000, 125, false]);
    const described = (await cliOk(cli('ec2', 'describe-volumes', '--volume-ids', v.VolumeId))).Volumes[0];
    assert.deepEqual([described.Iops, described.Throughput], [3000, 125]);
    const m = (await cliOk(cli('ec2', 'modify-volume', '--volume-id', v.VolumeId, '--iops', '4000', '--throughput', '500'))).VolumeModification;
    assert.deepEqual([m.OriginalIops, m.TargetIops, m.OriginalThroughput, m.TargetThroughput], [3000, 4000, 125, 500]);
    const listed = (await cliOk(cli('ec2', 'describe-volumes-modifications', '--volume-ids', v.VolumeId))).VolumesModifications;
    assert.deepEqual(listed.map((x: typeof m) => [x.OriginalThroughput, x.TargetThroughput]), [[125, 500]]);
  });

  test('per-type mistakes fail with EC2 codes', async () => {
    const throughput = await cliFails(cli('ec2', 'create-volume', '--availability-zone', 'us-east-1a', '--size', '20', '--volume-type', 'gp2', '--throughput', '200'),
      'InvalidParameterCombination', 'CreateVolume');
    assert.equal(throughput, 'The parameter throughput is not supported for gp2 volumes.');
    const ratio = await cliFails(cli('ec2', 'create-volume', '--availability-zone', 'us-east-1a', '--size', '10', '--volume-type', 'io1', '--iops', '1000'),
      'InvalidParameterValue', 'CreateVolume');
    assert.equal(ratio, 'Iops to volume size ratio of 100.000000 is too high; maximum is 50');
    const multi = await cliFails(cli('ec2', 'create-volume', '--availability-zone', 'us-east-1a', '--size', '10', '--volume-type', 'gp2', '--multi-attach-enabled'),
      'InvalidParameterCombination', 'CreateVolume');
    assert.match(multi, /Multi-Attach is supported only for io1 and io2 volumes/);
  });
});

describe('boto3', () => {
  test('io2 needs IOPS; gp2 to gp3 reports both pairs; a copied snapshot reports vol-ffffffff', async () => {
    const r = await boto3(server.endpoint, ME, `
def code(call):
    try:
        call()
        return None
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"]["Code"], e.response["Error"]["Message"]]
out = {}
out["io2"] = code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="io2"))
out["st1"] = code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="st1"))
v = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100)
out["gp2"] = [v["Iops"], v.get("Throughput")]
m = ec2.modify_volume(VolumeId=v["VolumeId"], VolumeType="gp3")["VolumeModification"]
out["modification"] = [m["OriginalIops"], m["TargetIops"], m.get("OriginalThroughput"), m["TargetThroughput"]]
s = ec2.create_snapshot(VolumeId=v["VolumeId"])["SnapshotId"]
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[s], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
c = ec2.copy_snapshot(SourceRegion="us-east-1", SourceSnapshotId=s)["SnapshotId"]
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[c], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
out["volumeIds"] = [ec2.describe_snapshots(SnapshotIds=[x])["Snapshots"][0]["VolumeId"] for x in (s, c)] + [v["VolumeId"]]
print(json.dumps(out))
`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.io2, ['InvalidParameterCombination', 'The parameter iops must be specified for io2 volumes.']);
    assert.deepEqual(r.json.st1, ['InvalidParameterValue', 'Volume of 100GiB is too small; minimum is 125GiB for st1 volumes.']);
    assert.deepEqual(r.json.gp2, [300, null]);
    assert.deepEqual(r.json.modification, [300, 3000, null, 125]);
    const [source, copy, volumeId] = r.json.volumeIds;
    assert.equal(source, volumeId);
    assert.equal(copy, 'vol-ffffffff');
  });
});
