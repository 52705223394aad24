// The console's entry: finds the session (dev mode signs in as the default account by itself),
// shows the sign-in page whenever a request finds the session gone, and the shell otherwise.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentSession, onSessionChanged, onSignedOut, signIn, type SessionInfo } from './api.ts';
import { SignIn } from './SignIn.tsx';
import { Shell } from './Shell.tsx';
import './style.css';

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; mode?: 'strict' | 'dev'; notice?: string }
  | { kind: 'signed-in'; session: SessionInfo };

function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    const off = onSignedOut((mode) => setState({ kind: 'signed-out', mode, notice: 'Your session has ended (expired or signed out). Sign in again.' }));
    // Another tab signed in as someone else: the shell is rebuilt for that account (keyed by it).
    const offChanged = onSessionChanged((session) => setState({ kind: 'signed-in', session }));
    currentSession()
      .then((session) => setState({ kind: 'signed-in', session }))
      .catch((err) => setState({ kind: 'signed-out', mode: err instanceof ApiError ? err.mode : undefined }));
    return () => { off(); offChanged(); };
  }, []);

  useEffect(() => {
    // Dev mode opens signed in as the default account, as the API accepts any key there.
    if (state.kind === 'signed-out' && state.mode === 'dev' && !state.notice && !sessionStorage.getItem('amiforge.signedOut')) {
      signIn({ account: '123456789012' }).then((session) => setState({ kind: 'signed-in', session })).catch(() => undefined);
    }
  }, [state]);

  if (state.kind === 'loading') return <p>Loading…</p>;
  if (state.kind === 'signed-out') {
    return <SignIn mode={state.mode} notice={state.notice} onSignedIn={(session) => { sessionStorage.removeItem('amiforge.signedOut'); setState({ kind: 'signed-in', session }); }} />;
  }
  return (
    <Shell
      key={`${state.session.account}/${state.session.user ?? ''}`}
      session={state.session}
      onSession={(session) => setState({ kind: 'signed-in', session })}
      onSignedOut={() => { sessionStorage.setItem('amiforge.signedOut', '1'); setState({ kind: 'signed-out', mode: state.session.mode }); }}
    />
  );
}

render(<App />, document.getElementById('app')!);
