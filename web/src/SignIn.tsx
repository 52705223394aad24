// The sign-in page: an access key and its secret (strict mode) or an account id (dev mode).
import { useState } from 'preact/hooks';
import { describeError, signIn, type SessionInfo } from './api.ts';

export function SignIn(props: { mode?: 'strict' | 'dev'; notice?: string; onSignedIn: (s: SessionInfo) => void }) {
  const [accessKeyId, setKey] = useState('');
  const [secret, setSecret] = useState('');
  const [account, setAccount] = useState('123456789012');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const dev = props.mode === 'dev';

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(dev ? { account } : { accessKeyId, secretAccessKey: secret }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Sign in to amiforge</h1>
      {props.notice && <p role="status">{props.notice}</p>}
      <form onSubmit={submit}>
        {dev ? (
          <label>Account <input name="account" inputMode="numeric" pattern="\d{12}" required value={account} onInput={(e) => setAccount(e.currentTarget.value)} /></label>
        ) : (
          <>
            <label>Access key ID <input name="accessKeyId" autoComplete="username" required value={accessKeyId} onInput={(e) => setKey(e.currentTarget.value)} /></label>
            <label>Secret access key <input name="secretAccessKey" type="password" autoComplete="current-password" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} /></label>
          </>
        )}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
    </main>
  );
}
