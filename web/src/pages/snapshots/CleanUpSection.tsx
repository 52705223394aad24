// "Clean-up": what deleting the snapshots deregistered images left behind would reclaim (the
// `cleanup-preview` view), and the clean-up itself (POST `cleanup` with those ids), confirmed first.
import { useState } from 'preact/hooks';
import { ActionOutcome, useActions } from '../../components/actions.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { formatBytes, formatCost } from '../../components/format.ts';
import { Figure } from './Figure.tsx';
import { cleanUp, loadCleanUpPreview, type CleanUpPreview } from './storage-source.ts';

export function CleanUpSection(props: { region: string; onCleaned: () => void }) {
  const [preview, setPreview] = useState<CleanUpPreview | null>();
  const messages = useActions();

  const show = () => messages.run(async () => {
    const p = await loadCleanUpPreview();
    setPreview(p ?? null);
    if (!p) return 'Clean-up is not available on this server.';
    return p.deletable.length ? `Clean-up would delete ${p.deletable.length} snapshot(s).` : 'Nothing to clean up.';
  });

  const apply = () => messages.run(async () => {
    const ids = preview?.deletable.map((d) => d.snapshotId) ?? [];
    const out = await cleanUp(ids);
    const deleted = out.results.filter((r) => r.result === 'deleted').map((r) => r.snapshotId);
    const others = out.results.filter((r) => r.result !== 'deleted').map((r) => `${r.snapshotId}: ${r.reason ?? r.message ?? r.result}`);
    setPreview(await loadCleanUpPreview() ?? null);
    props.onCleaned();
    return `Deleted ${deleted.length} snapshot(s)${deleted.length ? ` (${deleted.join(', ')})` : ''}, reclaiming ${formatBytes(out.reclaimedBytes)}.${others.length ? ` Not deleted: ${others.join('; ')}.` : ''}`;
  });

  return (
    <section aria-labelledby="cleanup-heading">
      <h2 id="cleanup-heading">Clean-up</h2>
      <p>Snapshots that deregistered images left behind, and that nothing else uses, still cost money until they are deleted.</p>
      <button type="button" disabled={messages.busy} onClick={() => void show()}>Preview clean-up</button>
      {preview && (
        <>
          <dl class="figures">
            <Figure id="reclaimable" label="Reclaimable" value={preview.reclaimableBytes} text={`${formatBytes(preview.reclaimableBytes)}, saving ${formatCost(preview.monthlySaving)} a month`} />
          </dl>
          {preview.deletable.length > 0 && (
            <ul aria-label="Would be deleted">
              {preview.deletable.map((d) => <li key={d.snapshotId}>{d.snapshotId} ({d.volumeSizeGiB} GiB), left behind by {d.imageIds.join(', ')}</li>)}
            </ul>
          )}
          {preview.kept.length > 0 && (
            <ul aria-label="Kept">
              {preview.kept.map((d) => <li key={d.snapshotId}>{d.snapshotId} is kept: {d.keptBecause}</li>)}
            </ul>
          )}
          <ConfirmButton
            label="Clean up"
            confirmLabel="Confirm clean up"
            disabled={messages.busy || !preview.deletable.length}
            warning={`Delete ${preview.deletable.length} snapshot(s) for good (Recycle Bin rules still apply)?`}
            onConfirm={apply}
          />
        </>
      )}
      <ActionOutcome actions={messages} />
    </section>
  );
}
