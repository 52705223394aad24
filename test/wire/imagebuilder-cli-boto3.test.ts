// Image Builder's resources through the aws CLI and boto3, in strict mode: the commands as a user
// types them (the CLI fills in client tokens itself), their JSON output, and Image Builder's errors
// as each client reports them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, cliFails, cliOk } from '../support/clients.ts';
import { amazonInUsEast1 } from '../support/catalog.ts';

let server: RunningServer;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
});
after(async () => {
  await server?.stop();
});

const DOC = 'name: cli\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Hello\n        action: ExecuteBash\n        inputs:\n          commands: ["echo hello"]\n';
const cli = (who: typeof ALICE, ...args: string[]) => awsCli(server.endpoint, credentialsOf(who), ['imagebuilder', ...args]);
const py = (who: typeof ALICE, script: string) =>
  boto3(server.endpoint, credentialsOf(who), `ib = boto3.client("imagebuilder", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))\n${script}`);

test('aws CLI: a component, a recipe on it, both configurations; lists; errors; deletes', async () => {
  const created = await cliOk(cli(ALICE, 'create-component', '--name', 'cli-comp', '--semantic-version', '1.0.0', '--platform', 'Linux', '--data', DOC));
  const componentArn = created.componentBuildVersionArn as string;
  assert.match(componentArn, /^arn:aws:imagebuilder:us-east-1:111111111111:component\/cli-comp\/1\.0\.0\/1$/);
  assert.ok(created.clientToken, 'the CLI generated a client token');
  const got = await cliOk(cli(ALICE, 'get-component', '--component-build-version-arn', componentArn.replace('/1.0.0/1', '/x.x.x')));
  assert.equal(got.component.data, DOC);
  const listed = await cliOk(cli(ALICE, 'list-components', '--owner', 'Self'));
  assert.deepEqual(listed.componentVersionList.map((c: { name: string }) => c.name), ['cli-comp']);
  const recipe = await cliOk(cli(ALICE, 'create-image-recipe', '--name', 'cli-recipe', '--semantic-version', '1.0.0', '--parent-image', amazonInUsEast1[0],
    '--components', JSON.stringify([{ componentArn }])));
  assert.equal((await cliOk(cli(ALICE, 'get-image-recipe', '--image-recipe-arn', recipe.imageRecipeArn))).imageRecipe.parentImage, amazonInUsEast1[0]);
  const infra = await cliOk(cli(ALICE, 'create-infrastructure-configuration', '--name', 'cli-infra', '--instance-profile-name', 'Role', '--instance-types', 't3.micro'));
  const dist = await cliOk(cli(ALICE, 'create-distribution-configuration', '--name', 'cli-dist',
    '--distributions', JSON.stringify([{ region: 'us-east-1', amiDistributionConfiguration: { name: 'out-{{ imagebuilder:buildDate }}' } }])));
  assert.equal((await cliOk(cli(ALICE, 'list-distribution-configurations'))).distributionConfigurationSummaryList[0].name, 'cli-dist');

  const dup = await cliFails(cli(ALICE, 'create-component', '--name', 'cli-comp', '--semantic-version', '1.0.0', '--platform', 'Linux', '--data', DOC),
    'ResourceAlreadyExistsException', 'CreateComponent');
  assert.match(dup, /already exists/);
  await cliFails(cli(ALICE, 'delete-component', '--component-build-version-arn', componentArn), 'ResourceDependencyException', 'DeleteComponent');
  await cliFails(cli(BOB, 'get-component', '--component-build-version-arn', componentArn), 'ForbiddenException', 'GetComponent');
  await cliFails(cli(ALICE, 'create-container-recipe', '--name', 'cli-cont', '--semantic-version', '1.0.0', '--container-type', 'DOCKER',
    '--parent-image', 'amazonlinux:latest', '--components', JSON.stringify([{ componentArn }]), '--target-repository', 'service=ECR,repositoryName=r',
    '--dockerfile-template-data', 'FROM x'), 'InvalidRequestException', 'CreateContainerRecipe');

  await cliOk(cli(ALICE, 'delete-image-recipe', '--image-recipe-arn', recipe.imageRecipeArn));
  await cliOk(cli(ALICE, 'delete-component', '--component-build-version-arn', componentArn));
  await cliOk(cli(ALICE, 'delete-infrastructure-configuration', '--infrastructure-configuration-arn', infra.infrastructureConfigurationArn));
  await cliOk(cli(ALICE, 'delete-distribution-configuration', '--distribution-configuration-arn', dist.distributionConfigurationArn));
  assert.deepEqual((await cliOk(cli(ALICE, 'list-components'))).componentVersionList, []);
});

test('boto3: create with a client token twice, tags, paginators, errors as botocore exceptions', async () => {
  const out = await cliOk(py(ALICE, `
doc = ${JSON.stringify(DOC)}
a = ib.create_component(name="py-comp", semanticVersion="1.0.0", platform="Linux", data=doc, clientToken="py-token")
b = ib.create_component(name="py-comp", semanticVersion="1.0.0", platform="Linux", data=doc, clientToken="py-token")
try:
    ib.create_component(name="py-comp", semanticVersion="2.0.0", platform="Linux", data=doc, clientToken="py-token")
    mismatch = None
except ib.exceptions.IdempotentParameterMismatchException as e:
    mismatch = e.response["Error"]["Code"]
arn = a["componentBuildVersionArn"]
ib.tag_resource(resourceArn=arn, tags={"team": "py"})
tags = ib.list_tags_for_resource(resourceArn=arn)["tags"]
ib.untag_resource(resourceArn=arn, tagKeys=["team"])
after = ib.list_tags_for_resource(resourceArn=arn)["tags"]
for i in range(4):
    ib.create_component(name="py-more-%d" % i, semanticVersion="1.0.0", platform="Linux", data=doc)
names = [c["name"] for page in ib.get_paginator("list_components").paginate(PaginationConfig={"PageSize": 2}) for c in page["componentVersionList"]]
try:
    ib.get_infrastructure_configuration(infrastructureConfigurationArn="arn:aws:imagebuilder:us-east-1:111111111111:infrastructure-configuration/none")
    missing = None
except ib.exceptions.ResourceNotFoundException as e:
    missing = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps({"same": a["componentBuildVersionArn"] == b["componentBuildVersionArn"], "mismatch": mismatch, "tags": tags, "after": after, "names": names, "missing": missing}))
`));
  assert.deepEqual(out, {
    same: true, mismatch: 'IdempotentParameterMismatchException', tags: { team: 'py' }, after: {},
    names: ['py-comp', 'py-more-0', 'py-more-1', 'py-more-2', 'py-more-3'], missing: ['ResourceNotFoundException', 404],
  });
});
