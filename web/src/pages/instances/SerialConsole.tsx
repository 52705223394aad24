// The instance's serial console, live: the `console` stream (output as the guest writes it, state
// changes) shown in an xterm terminal, which is loaded only when a console is opened (its own
// chunk). Where the server has no console stream, GetConsoleOutput is read every POLL_MS instead.
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, stream } from '../../api.ts';
import { consoleOutput } from './instance-source.ts';
import { installConstructedStyleSheets } from './xterm-styles.ts';

const POLL_MS = 1000;

interface Screen { write(text: string): void; reset(): void; dispose(): void }

/** The terminal, or (until it has loaded) a buffer that hands its text over once it has. */
async function openTerminal(host: HTMLElement): Promise<Screen> {
  const { Terminal } = await import('@xterm/xterm');
  installConstructedStyleSheets();
  const term = new Terminal({ convertEol: true, disableStdin: true, cursorBlink: false, rows: 24, cols: 100, scrollback: 5000 });
  term.open(host);
  // Keyboard users move past the terminal (it takes no input) instead of being held in it.
  host.querySelector('textarea')?.setAttribute('tabindex', '-1');
  return { write: (t) => term.write(t), reset: () => term.reset(), dispose: () => term.dispose() };
}

export function SerialConsole(props: {
  instanceId: string;
  /** A state the stream pushed. */
  onState: (state: string) => void;
  /** The server has no console stream: nothing will push states. */
  onPolling: () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [source, setSource] = useState<'connecting' | 'stream' | 'polling'>('connecting');
  const [error, setError] = useState<string>();
  const onState = useRef(props.onState);
  onState.current = props.onState;
  const onPolling = useRef(props.onPolling);
  onPolling.current = props.onPolling;

  useEffect(() => {
    let closed = false;
    let pending = '';
    let screen: Screen | undefined;
    const write = (text: string) => {
      if (screen) screen.write(text);
      else pending += text;
    };
    openTerminal(host.current!).then((s) => {
      if (closed) return s.dispose();
      screen = s;
      s.write(pending);
      pending = '';
    }, (err) => setError(`The terminal could not be loaded: ${describeError(err)}`));

    let timer: ReturnType<typeof setTimeout> | undefined;
    let shown = '';
    const poll = async () => {
      if (closed) return;
      try {
        const text = await consoleOutput(props.instanceId);
        if (closed) return;
        setError(undefined);
        // GetConsoleOutput answers the whole (kept) text: write what is new, or start again.
        if (text.startsWith(shown)) write(text.slice(shown.length));
        else {
          screen?.reset();
          pending = '';
          write(text);
        }
        shown = text;
      } catch (err) {
        setError(describeError(err));
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };

    let closeStream = () => {};
    const follow = () => {
      closeStream = stream('console', { instanceId: props.instanceId }, (event, data) => {
        const d = data as { text?: string; state?: string; code?: string; message?: string } | undefined;
        if (event === 'open') {
          // Each connection (a reconnect too) starts with the text kept so far: start the screen again.
          pending = '';
          screen?.reset();
        } else if (event === 'output' && d?.text) {
          setSource('stream');
          write(d.text);
        } else if (event === 'state' && d?.state) {
          setSource('stream');
          onState.current(d.state);
        } else if (event === 'moved') {
          // The guest now runs on another node: reconnect, and this node sends us there.
          closeStream();
          screen?.reset();
          follow();
        } else if (event === 'error' && d?.message) {
          setError(`${d.message} (${d.code})`);
        }
      }, () => {
        if (closed) return;
        setSource('polling');
        onPolling.current();
        void poll();
      });
    };
    follow();
    return () => {
      closed = true;
      closeStream();
      if (timer) clearTimeout(timer);
      screen?.dispose();
    };
  }, [props.instanceId]);

  return (
    <section aria-labelledby="serial-console-heading">
      <h2 id="serial-console-heading">Serial console</h2>
      <p class="hint">
        {source === 'stream' ? 'Live: lines appear as the guest writes them.' : source === 'polling' ? 'Read from GetConsoleOutput every second.' : 'Connecting…'}
      </p>
      {error && <p role="alert" class="error">{error}</p>}
      <div ref={host} role="log" aria-label="Serial console" tabIndex={0} class="serial-console" />
    </section>
  );
}
