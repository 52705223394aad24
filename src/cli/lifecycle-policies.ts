// `amiforge lifecycle-policies run ARN` and `... preview ARN`: start an Image Builder lifecycle
// policy's execution now (or a dry run) on a running server, through its operational endpoints
// (/_amiforge/lifecycle-policies/ARN/run|preview), as Image Builder's API has no such call.
import { Command } from 'commander';
import { callOperational, endpointOption } from './operational-api.ts';

async function start(endpoint: string, arn: string, what: 'run' | 'preview'): Promise<void> {
  let res: { status: number; body: { error?: string; lifecycleExecutionId?: string; started?: boolean } };
  try {
    res = await callOperational(endpoint, 'POST', `/_amiforge/lifecycle-policies/${encodeURIComponent(arn)}/${what}`);
  } catch (err) {
    console.error(`amiforge lifecycle-policies: ${(err as Error).message}`);
    process.exit(2);
  }
  const { status, body } = res;
  if (status !== 202) {
    console.error(`amiforge lifecycle-policies: ${body.error ?? `the server answered ${status}`}`);
    process.exit(2);
  }
  console.log(body.lifecycleExecutionId);
  if (!body.started) console.error('an execution of this policy was already under way: that is its id');
  console.error(`follow it with: aws imagebuilder list-lifecycle-execution-resources --lifecycle-execution-id ${body.lifecycleExecutionId}`);
}

export function lifecyclePoliciesCommand(): Command {
  const cmd = new Command('lifecycle-policies').description('Image Builder lifecycle policies of a running server: run one now, or preview what it would do.');
  for (const what of ['run', 'preview'] as const) {
    cmd.command(what)
      .description(what === 'run'
        ? 'Start an execution of an enabled policy now; prints its lifecycle execution id.'
        : 'Start a dry run that changes nothing; its resources (list-lifecycle-execution-resources) say what an execution would do.')
      .argument('<arn>', 'the lifecycle policy\'s ARN')
      .addOption(endpointOption())
      .action((arn: string, o: { endpointUrl: string }) => start(o.endpointUrl, arn, what));
  }
  return cmd;
}
