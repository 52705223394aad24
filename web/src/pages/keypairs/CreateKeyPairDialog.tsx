// "Create key pair": the name, type and format; then the private key offered once as a download.
// The key lives only in this dialog's state and a Blob URL; both go when the dialog closes, and
// amiforge keeps no copy (CreateKeyPair returns it once), so it cannot be downloaded again.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { parseTag } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import type { CreatedKeyPair } from '../../wire.ts';
import { createKeyPair } from './key-pairs-source.ts';

export function CreateKeyPairDialog(props: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState('rsa');
  const [format, setFormat] = useState('pem');
  const [tag, setTag] = useState('');
  const [created, setCreated] = useState<{ key: Omit<CreatedKeyPair, 'KeyMaterial'>; url: string; file: string } | undefined>();
  const [downloaded, setDownloaded] = useState(false);
  const action = useAction();

  // The Blob URL is revoked as the dialog closes (Close, Escape) or goes with its page.
  const url = useRef<string | undefined>(undefined);
  const forget = () => {
    if (url.current) URL.revokeObjectURL(url.current);
    url.current = undefined;
  };
  useLayoutEffect(() => forget, []);
  const close = () => {
    forget();
    props.onClose();
  };

  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const { KeyMaterial, ...key } = await createKeyPair({ name, type, format, tags: parseTag(tag) });
      const blob = new Blob([KeyMaterial ?? ''], { type: format === 'ppk' ? 'application/octet-stream' : 'application/x-pem-file' });
      url.current = URL.createObjectURL(blob);
      setCreated({ key, url: url.current, file: `${name}.${format}` });
      props.onCreated(name);
      return `Key pair ${name} created (${key.KeyPairId}).`;
    });
  };

  return (
    <Dialog title="Create key pair" onClose={close}>
      {!created ? (
        <form class="stack" onSubmit={submit}>
          <label>Key pair name <input required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
          <label>
            Key type{' '}
            <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
              <option value="rsa">RSA</option>
              <option value="ed25519">ED25519</option>
            </select>
          </label>
          <label>
            Private key format{' '}
            <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
              <option value="pem">.pem (OpenSSH)</option>
              <option value="ppk">.ppk (PuTTY)</option>
            </select>
          </label>
          <label>Tag (key=value, optional) <input value={tag} onInput={(e) => setTag(e.currentTarget.value)} /></label>
          <button type="submit" disabled={action.busy}>Create</button>
        </form>
      ) : (
        <div class="stack">
          <p class="warning" role="note">
            This is the only time the private key is offered. amiforge does not keep it: download it now and store it
            safely. Once this dialog closes it cannot be downloaded again.
          </p>
          <p>Fingerprint: <code>{created.key.KeyFingerprint}</code></p>
          {!downloaded
            ? <p><a href={created.url} download={created.file} onClick={() => setDownloaded(true)}>Download private key</a></p>
            : <p>The private key was downloaded as <code>{created.file}</code>.</p>}
        </div>
      )}
      <ActionStatus status={action.status} error={action.error} />
    </Dialog>
  );
}
