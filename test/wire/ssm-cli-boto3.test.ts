// Systems Manager parameters through the aws CLI (AWS_DEFAULT_REGION) and boto3, in strict mode:
// the commands as a user types them, their JSON output, and SSM's errors as each client reports
// them; public parameters, SecureString, labels, aws:ec2:image and resolve:ssm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, cliFails, cliOk, credentialsOf } from '../support/clients.ts';
import { CATALOGUE_AMI } from '../support/instances.ts';

let server: RunningServer;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
});
after(async () => {
  await server?.stop();
});

const ssm = (who: typeof ALICE, args: string[], region = 'us-east-1') => awsCli(server.endpoint, credentialsOf(who), ['ssm', ...args], region);
const py = (who: typeof ALICE, script: string, region = 'us-east-1') =>
  boto3(server.endpoint, credentialsOf(who), `ssm = boto3.client("ssm", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))\n${script}`, region);

test('aws CLI: put, get, overwrite, history, labels, by path, describe, delete', async () => {
  assert.deepEqual(await cliOk(ssm(ALICE, ['put-parameter', '--name', '/cli/db', '--value', 'one', '--type', 'String'])), { Version: 1, Tier: 'Standard' });
  assert.equal((await cliOk(ssm(ALICE, ['put-parameter', '--name', '/cli/db', '--value', 'two', '--overwrite']))).Version, 2);
  const got = await cliOk(ssm(ALICE, ['get-parameter', '--name', '/cli/db']));
  assert.deepEqual([got.Parameter.Value, got.Parameter.Version, got.Parameter.ARN], ['two', 2, `arn:aws:ssm:us-east-1:${ALICE.id}:parameter/cli/db`]);
  assert.match(await cliFails(ssm(ALICE, ['put-parameter', '--name', '/cli/db', '--value', 'x', '--type', 'String']), 'ParameterAlreadyExists', 'PutParameter'),
    /set the overwrite option/);
  await cliOk(ssm(ALICE, ['label-parameter-version', '--name', '/cli/db', '--parameter-version', '1', '--labels', 'old']));
  assert.equal((await cliOk(ssm(ALICE, ['get-parameter', '--name', '/cli/db:old']))).Parameter.Value, 'one');
  const history = await cliOk(ssm(ALICE, ['get-parameter-history', '--name', '/cli/db']));
  assert.deepEqual(history.Parameters.map((h: { Value: string; Labels: string[] }) => [h.Value, h.Labels]), [['one', ['old']], ['two', []]]);
  await cliOk(ssm(ALICE, ['put-parameter', '--name', '/cli/sub/x', '--value', 'x', '--type', 'StringList']));
  const byPath = await cliOk(ssm(ALICE, ['get-parameters-by-path', '--path', '/cli', '--recursive']));
  assert.deepEqual(byPath.Parameters.map((p: { Name: string }) => p.Name), ['/cli/db', '/cli/sub/x']);
  const described = await cliOk(ssm(ALICE, ['describe-parameters', '--parameter-filters', 'Key=Name,Option=BeginsWith,Values=/cli/']));
  assert.deepEqual(described.Parameters.map((p: { Name: string }) => p.Name), ['/cli/db', '/cli/sub/x']);
  await cliOk(ssm(ALICE, ['delete-parameter', '--name', '/cli/sub/x']));
  await cliFails(ssm(ALICE, ['get-parameter', '--name', '/cli/sub/x']), 'ParameterNotFound', 'GetParameter');
  await cliFails(ssm(BOB, ['get-parameter', '--name', '/cli/db']), 'ParameterNotFound', 'GetParameter');
  await cliFails(ssm(ALICE, ['list-documents']), 'UnsupportedOperationException', 'ListDocuments');
});

test('aws CLI: SecureString and the public parameters in two regions', async () => {
  await cliOk(ssm(ALICE, ['put-parameter', '--name', '/cli/secret', '--value', 'hush-cli-4411', '--type', 'SecureString']));
  assert.notEqual((await cliOk(ssm(ALICE, ['get-parameter', '--name', '/cli/secret']))).Parameter.Value, 'hush-cli-4411');
  assert.equal((await cliOk(ssm(ALICE, ['get-parameter', '--name', '/cli/secret', '--with-decryption']))).Parameter.Value, 'hush-cli-4411');
  const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
  assert.equal((await cliOk(ssm(BOB, ['get-parameters', '--names', name, '--query', 'Parameters[0].Value']))), CATALOGUE_AMI);
  const eu = await cliOk(ssm(BOB, ['get-parameter', '--name', name, '--query', 'Parameter.Value'], 'eu-west-1'));
  assert.match(eu, /^ami-/);
  assert.notEqual(eu, CATALOGUE_AMI);
  const ubuntu = await cliOk(ssm(ALICE, ['get-parameters-by-path', '--path', '/aws/service/canonical/ubuntu/server/24.04/stable/current', '--recursive']));
  assert.deepEqual(ubuntu.Parameters.map((p: { Name: string }) => p.Name), ['/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id']);
  await cliFails(ssm(ALICE, ['put-parameter', '--name', '/aws/service/mine', '--value', 'x', '--type', 'String']), 'ValidationException', 'PutParameter');
});

test('aws CLI: ec2 run-instances --image-id resolve:ssm:...', async () => {
  await cliOk(ssm(ALICE, ['put-parameter', '--name', '/cli/golden', '--value', CATALOGUE_AMI, '--type', 'String', '--data-type', 'aws:ec2:image']));
  const run = await cliOk(awsCli(server.endpoint, credentialsOf(ALICE), ['ec2', 'run-instances', '--image-id', 'resolve:ssm:/cli/golden:1',
    '--instance-type', 't3.micro', '--count', '1']));
  assert.equal(run.Instances[0].ImageId, CATALOGUE_AMI);
});

test('boto3: Debian\'s documented names, aws:ec2:image validation, tags and errors', async () => {
  const out = await py(ALICE, `
res = {}
for n in ["/aws/service/debian/release/bookworm/latest/amd64", "/aws/service/debian/release/12/latest/amd64"]:
    try:
        res[n] = ssm.get_parameter(Name=n)["Parameter"]["Value"]
    except botocore.exceptions.ClientError as e:
        res[n] = e.response["Error"]["Code"]
def code(f):
    try:
        f()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
res["bad-ami"] = code(lambda: ssm.put_parameter(Name="/py/img", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image"))
res["not-ami"] = code(lambda: ssm.put_parameter(Name="/py/img", Value="hello", Type="String", DataType="aws:ec2:image"))
res["good"] = ssm.put_parameter(Name="/py/img", Value=${JSON.stringify(CATALOGUE_AMI)}, Type="String", DataType="aws:ec2:image", Tags=[{"Key": "team", "Value": "web"}])["Version"]
res["tags"] = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/py/img")["TagList"]
res["missing"] = code(lambda: ssm.get_parameter(Name="/py/none"))
res["levels"] = code(lambda: ssm.put_parameter(Name="/" + "/".join("l%d" % i for i in range(16)), Value="x", Type="String"))
res["many"] = ssm.get_parameters(Names=["/py/img", "/py/none"])["InvalidParameters"]
print(json.dumps(res))
`);
  assert.equal(out.code, 0, out.stderr);
  const r = out.json;
  const debian = r['/aws/service/debian/release/bookworm/latest/amd64'];
  assert.equal(r['/aws/service/debian/release/12/latest/amd64'], debian);
  // The Debian image is in the catalogue only where its disk build exists (docs/debian-image.md).
  assert.ok(/^ami-/.test(debian) || debian === 'ParameterNotFound', debian);
  assert.deepEqual([r['bad-ami'], r['not-ami'], r.good], [['ValidationException', 400], ['ParameterPatternMismatchException', 400], 1]);
  assert.deepEqual(r.tags, [{ Key: 'team', Value: 'web' }]);
  assert.deepEqual([r.missing, r.levels, r.many], [['ParameterNotFound', 400], ['HierarchyLevelLimitExceededException', 400], ['/py/none']]);
});
