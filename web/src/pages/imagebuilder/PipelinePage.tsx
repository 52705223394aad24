// A pipeline's page: its configuration, its builds (ListImagePipelineImages) and "Run pipeline"
// (StartImagePipelineExecution), which links to the new build's page.
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { useLoad } from '../../components/useLoad.ts';
import { navigate } from '../../router.ts';
import { buildHref, getPipeline, listPipelineBuilds, startPipeline, type BuildSummary } from './imagebuilder-source.ts';

/** `1.0.0/3` of arn:aws:imagebuilder:...:image/NAME/1.0.0/3. */
const buildVersion = (arn = '') => arn.split('/').slice(-2).join('/');

const BUILD_COLUMNS: Column<BuildSummary>[] = [
  { key: 'version', label: 'Build version', value: (b) => buildVersion(b.arn), render: (b) => <a href={buildHref(b.arn ?? '')}>{buildVersion(b.arn)}</a> },
  { key: 'status', label: 'Status', value: (b) => b.state?.status },
  { key: 'created', label: 'Started', value: (b) => dateText(b.dateCreated), sortValue: (b) => b.dateCreated },
  { key: 'amis', label: 'Output AMIs', value: (b) => (b.outputResources?.amis ?? []).map((a) => `${a.region} ${a.image}`).join(', ') },
  { key: 'reason', label: 'Reason', value: (b) => b.state?.reason },
];

export function PipelinePage(props: { arn: string }) {
  const data = useLoad(async () => {
    const [pipeline, builds] = await Promise.all([getPipeline(props.arn), listPipelineBuilds(props.arn)]);
    return { pipeline, builds };
  }, [props.arn]);
  const action = useAction();
  const p = data.data?.pipeline;
  const run = () => action.run(async () => {
    const arn = await startPipeline(props.arn);
    navigate(buildHref(arn).slice(1));
    return `Build ${arn} started.`;
  });

  return (
    <section>
      <p><a href="#/imagebuilder">Image Builder</a></p>
      <h1>{p ? `Pipeline ${p.name}` : 'Pipeline'}</h1>
      {data.error && <p role="alert" class="error">{data.error}</p>}
      {p && (
        <>
          <dl class="facts">
            <dt>ARN</dt><dd>{p.arn}</dd>
            <dt>Status</dt><dd>{p.status}</dd>
            <dt>Description</dt><dd>{p.description}</dd>
            <dt>Schedule</dt><dd>{p.schedule?.scheduleExpression ? `${p.schedule.scheduleExpression} (${p.schedule.pipelineExecutionStartCondition ?? ''})` : 'manual only'}</dd>
            <dt>Last run</dt><dd>{dateText(p.dateLastRun) || 'never'}</dd>
            <dt>Next run</dt><dd>{dateText(p.dateNextRun)}</dd>
            <dt>Recipe</dt><dd>{p.imageRecipeArn}</dd>
            <dt>Infrastructure</dt><dd>{p.infrastructureConfigurationArn}</dd>
            <dt>Distribution</dt><dd>{p.distributionConfigurationArn ?? 'none (the build region only)'}</dd>
            <dt>Image tests</dt><dd>{p.imageTestsConfiguration?.imageTestsEnabled === false ? 'off' : 'on'}</dd>
          </dl>
          <p class="toolbar"><button type="button" disabled={action.busy} onClick={() => void run()}>Run pipeline</button></p>
        </>
      )}
      <ActionStatus status={action.status} error={action.error} />
      <DataTable caption="Builds of this pipeline" columns={BUILD_COLUMNS} rows={data.data?.builds ?? []} rowKey={(b) => b.arn ?? ''}
        loading={data.loading} emptyText="No builds yet." />
    </section>
  );
}
