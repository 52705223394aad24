// "Import key pair": a name and a pasted OpenSSH public key (ImportKeyPair).
import { useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { parseTag } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { importKeyPair } from './key-pairs-source.ts';

export function ImportKeyPairDialog(props: { onClose: () => void; onImported: (name: string) => void }) {
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [tag, setTag] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const out = await importKeyPair({ name, publicKey, tags: parseTag(tag) });
      props.onImported(name);
      return `Key pair ${name} imported (${out.KeyPairId}, fingerprint ${out.KeyFingerprint}).`;
    });
  };
  return (
    <Dialog title="Import key pair" onClose={props.onClose}>
      <form class="stack" onSubmit={submit}>
        <label>Key pair name <input required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
        <label>
          Public key
          <textarea required rows={4} cols={60} placeholder="ssh-ed25519 AAAA... or ssh-rsa AAAA..." value={publicKey}
            onInput={(e) => setPublicKey(e.currentTarget.value)} />
        </label>
        <label>Tag (key=value, optional) <input value={tag} onInput={(e) => setTag(e.currentTarget.value)} /></label>
        <button type="submit" disabled={action.busy}>Import</button>
      </form>
      <ActionStatus status={action.status} error={action.error} />
    </Dialog>
  );
}
