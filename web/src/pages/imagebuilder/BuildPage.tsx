// A build's page: its status (a progress bar while it runs, refreshed until it ends), its output
// AMIs per region linking to their image pages, and each workflow's steps with their logs.
import { useEffect } from 'preact/hooks';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { Progress } from '../../components/Progress.tsx';
import { useLoad } from '../../components/useLoad.ts';
import { buildProgress, buildWorkflows, getBuild, pipelineHref, stepLog, TERMINAL, type Ami, type StepExecution } from './imagebuilder-source.ts';

/** How often a running build is looked at again. */
const REFRESH_MS = 1500;

const AMI_COLUMNS: Column<Ami>[] = [
  { key: 'region', label: 'Region', value: (a) => a.region },
  { key: 'image', label: 'AMI', value: (a) => a.image, render: (a) => (a.image ? <a href={`#/images/${encodeURIComponent(a.image)}`}>{a.image}</a> : '') },
  { key: 'name', label: 'Name', value: (a) => a.name },
  { key: 'account', label: 'Account', value: (a) => a.accountId },
];

const STEP_COLUMNS: Column<StepExecution>[] = [
  { key: 'name', label: 'Step', value: (s) => s.name },
  { key: 'status', label: 'Status', value: (s) => s.status },
  { key: 'start', label: 'Started', value: (s) => dateText(s.startTime), sortValue: (s) => s.startTime },
  { key: 'end', label: 'Ended', value: (s) => dateText(s.endTime), sortValue: (s) => s.endTime },
  { key: 'message', label: 'Message', value: (s) => s.message },
];

export function BuildPage(props: { arn: string }) {
  const data = useLoad(async () => {
    const [build, workflows] = await Promise.all([getBuild(props.arn), buildWorkflows(props.arn)]);
    return { build, workflows };
  }, [props.arn]);
  const status = data.data?.build.state?.status;
  const running = !!status && !TERMINAL.has(status);

  useEffect(() => {
    if (!running || data.loading) return;
    const timer = setTimeout(() => void data.reload(), REFRESH_MS);
    return () => clearTimeout(timer);
  }, [data.data, running, data.loading]);

  const build = data.data?.build;
  const version = props.arn.split('/').slice(-3).join('/');
  return (
    <section>
      <p><a href="#/imagebuilder">Image Builder</a>{build?.sourcePipelineArn && <> · <a href={pipelineHref(build.sourcePipelineArn)}>its pipeline</a></>}</p>
      <h1>Build {version}</h1>
      {data.error && <p role="alert" class="error">{data.error}</p>}
      {build && (
        <>
          <p>
            Status: <strong>{status}</strong>
            {running && <> <Progress label="Build progress" percent={buildProgress(status)} /></>}
            {build.state?.reason && <> — {build.state.reason}</>}
          </p>
          <dl class="facts">
            <dt>ARN</dt><dd>{build.arn}</dd>
            <dt>Recipe</dt><dd>{build.imageRecipe?.name} (parent {build.imageRecipe?.parentImage})</dd>
            <dt>Started</dt><dd>{dateText(build.dateCreated)}</dd>
          </dl>
          <DataTable caption="Output AMIs" columns={AMI_COLUMNS} rows={build.outputResources?.amis ?? []} rowKey={(a) => `${a.region}/${a.accountId}/${a.image}`}
            emptyText={running ? 'Not yet: AMIs appear when the build is available.' : 'No output AMIs.'} />
        </>
      )}
      {(data.data?.workflows ?? []).map(({ workflow, steps }) => (
        <section key={workflow.workflowExecutionId} aria-label={`${workflow.type} workflow`}>
          <h2>{workflow.type} workflow: {workflow.status}</h2>
          <p>{workflow.totalStepsSucceeded ?? 0} of {workflow.totalStepCount ?? steps.length} steps succeeded{workflow.message ? ` — ${workflow.message}` : ''}</p>
          <DataTable caption={`Steps of the ${workflow.type} workflow`} columns={STEP_COLUMNS} rows={steps} rowKey={(s) => s.stepExecutionId ?? ''} />
          {steps.filter((s) => stepLog(s)).map((s) => (
            <details key={s.stepExecutionId} open={s.status === 'FAILED'}>
              <summary>Log of {s.name}</summary>
              <pre class="log" aria-label={`Log of ${s.name}`}>{stepLog(s)}</pre>
            </details>
          ))}
        </section>
      ))}
    </section>
  );
}
