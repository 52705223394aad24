// Image Builder #/imagebuilder: pipelines and the read-only resource lists;
// #/imagebuilder/pipelines/<arn> a pipeline with its builds; #/imagebuilder/builds/<arn> a build.
import { useState } from 'preact/hooks';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { useLoad } from '../../components/useLoad.ts';
import { useRoute } from '../../router.ts';
import { BuildPage } from './BuildPage.tsx';
import { listPipelines, listResources, pipelineHref, type Pipeline, type ResourceSummary } from './imagebuilder-source.ts';
import { PipelinePage } from './PipelinePage.tsx';

export function ImageBuilder(props: { region: string }) {
  const route = useRoute();
  const sub = /^\/imagebuilder\/(pipelines|builds)\/(.+)$/.exec(route);
  if (sub?.[1] === 'pipelines') return <PipelinePage key={route} arn={decodeURIComponent(sub[2])} />;
  if (sub?.[1] === 'builds') return <BuildPage key={route} arn={decodeURIComponent(sub[2])} />;
  return <ImageBuilderHome region={props.region} />;
}

const PIPELINE_COLUMNS: Column<Pipeline>[] = [
  { key: 'name', label: 'Pipeline', value: (p) => p.name, render: (p) => <a href={pipelineHref(p.arn ?? '')}>{p.name}</a> },
  { key: 'status', label: 'Status', value: (p) => p.status },
  { key: 'schedule', label: 'Schedule', value: (p) => p.schedule?.scheduleExpression ?? 'manual only' },
  { key: 'last', label: 'Last run', value: (p) => dateText(p.dateLastRun) || 'never', sortValue: (p) => p.dateLastRun },
  { key: 'next', label: 'Next run', value: (p) => dateText(p.dateNextRun), sortValue: (p) => p.dateNextRun },
  { key: 'description', label: 'Description', value: (p) => p.description },
];

type Tab = 'pipelines' | 'recipes' | 'components' | 'infrastructure' | 'distribution';
const TABS: { id: Tab; label: string; detail: string }[] = [
  { id: 'pipelines', label: 'Pipelines', detail: '' },
  { id: 'recipes', label: 'Image recipes', detail: 'Parent image' },
  { id: 'components', label: 'Components', detail: 'Type' },
  { id: 'infrastructure', label: 'Infrastructure configurations', detail: 'Instance types' },
  { id: 'distribution', label: 'Distribution configurations', detail: 'Regions' },
];

function ImageBuilderHome(props: { region: string }) {
  const [tab, setTab] = useState<Tab>('pipelines');
  return (
    <section>
      <h1>Image Builder</h1>
      <div role="tablist" aria-label="Image Builder resources" class="tabs">
        {TABS.map((t) => <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} onClick={() => setTab(t.id)}>{t.label}</button>)}
      </div>
      {tab === 'pipelines' ? <Pipelines region={props.region} /> : <Resources key={`${tab}/${props.region}`} tab={TABS.find((t) => t.id === tab)!} region={props.region} />}
    </section>
  );
}

function Pipelines(props: { region: string }) {
  const list = useLoad(listPipelines, [props.region]);
  return (
    <DataTable caption={`Image pipelines in ${props.region}`} columns={PIPELINE_COLUMNS} rows={list.data ?? []} rowKey={(p) => p.arn ?? ''}
      loading={list.loading} error={list.error} emptyText="No image pipelines in this region." />
  );
}

function Resources(props: { tab: (typeof TABS)[number]; region: string }) {
  const kind = props.tab.id as Exclude<Tab, 'pipelines'>;
  const list = useLoad(() => listResources(kind), [kind, props.region]);
  const columns: Column<ResourceSummary>[] = [
    { key: 'name', label: 'Name', value: (r) => r.name },
    { key: 'version', label: 'Version', value: (r) => r.version },
    { key: 'detail', label: props.tab.detail, value: (r) => r.detail },
    { key: 'description', label: 'Description', value: (r) => r.description },
    { key: 'created', label: 'Created', value: (r) => dateText(r.dateCreated), sortValue: (r) => r.dateCreated },
    { key: 'arn', label: 'ARN', value: (r) => r.arn },
  ];
  return (
    <DataTable caption={`${props.tab.label} in ${props.region}`} columns={columns} rows={list.data ?? []} rowKey={(r) => r.arn}
      loading={list.loading} error={list.error} emptyText={`No ${props.tab.label.toLowerCase()} in this region.`} />
  );
}
