// The signed-in frame: header (account, dev-mode switcher, region, sign-out), navigation and the page.
import { useEffect, useState } from 'preact/hooks';
import { currentRegion, ec2, setRegion, signIn, signOut, type SessionInfo } from './api.ts';
import { useRoute } from './router.ts';
import { Images } from './pages/Images.tsx';
import { Placeholder } from './pages/Placeholder.tsx';
import { KeyPairs } from './pages/keypairs/KeyPairs.tsx';
import { KmsKeys } from './pages/kms/KmsKeys.tsx';
import { RecycleBin } from './pages/recycle-bin/RecycleBin.tsx';
import { CopySchedules } from './pages/copy-schedules/CopySchedules.tsx';
import { ImageBuilder } from './pages/imagebuilder/ImageBuilder.tsx';

export const PAGES: { route: string; title: string }[] = [
  { route: '/images', title: 'Images' },
  { route: '/snapshots', title: 'Snapshots' },
  { route: '/volumes', title: 'Volumes' },
  { route: '/instances', title: 'Instances' },
  { route: '/key-pairs', title: 'Key pairs' },
  { route: '/kms', title: 'KMS keys' },
  { route: '/recycle-bin', title: 'Recycle Bin' },
  { route: '/copy-schedules', title: 'Copy schedules' },
  { route: '/imagebuilder', title: 'Image Builder' },
];

export function Shell(props: { session: SessionInfo; onSession: (s: SessionInfo) => void; onSignedOut: () => void }) {
  const { session } = props;
  const route = useRoute();
  const [region, setRegionState] = useState(currentRegion());
  const [regions, setRegions] = useState<string[]>([currentRegion()]);
  const [switchTo, setSwitchTo] = useState(session.account);

  useEffect(() => {
    ec2<{ Regions?: { RegionName: string }[] }>('DescribeRegions', { AllRegions: true })
      .then((r) => setRegions((r.Regions ?? []).map((x) => x.RegionName).sort()))
      .catch(() => undefined);
  }, [session.account]);

  const changeRegion = (r: string) => {
    setRegion(r);
    setRegionState(r);
  };
  const switchAccount = async (e: Event) => {
    e.preventDefault();
    if (!/^\d{12}$/.test(switchTo)) return;
    // The old session ends rather than lingering until it expires.
    await signOut();
    props.onSession(await signIn({ account: switchTo }));
  };
  const page = PAGES.find((p) => route === p.route || route.startsWith(`${p.route}/`)) ?? PAGES[0];

  return (
    <>
      <header class="top">
        <a class="brand" href="#/images">amiforge</a>
        <span class="who">
          Account <strong>{session.account}</strong>{session.user && <> as user <strong>{session.user}</strong></>}
        </span>
        {session.mode === 'dev' && (
          <form class="switcher" onSubmit={switchAccount}>
            <label>Switch account <input value={switchTo} inputMode="numeric" pattern="\d{12}" onInput={(e) => setSwitchTo(e.currentTarget.value)} /></label>
            <button type="submit">Switch</button>
          </form>
        )}
        <label>
          Region{' '}
          <select value={region} onChange={(e) => changeRegion(e.currentTarget.value)}>
            {regions.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <button type="button" onClick={async () => { await signOut(); props.onSignedOut(); }}>Sign out</button>
      </header>
      <div class="layout">
        <nav aria-label="Console pages" class="side">
          <ul>
            {PAGES.map((p) => (
              <li key={p.route}><a href={`#${p.route}`} aria-current={p === page ? 'page' : undefined}>{p.title}</a></li>
            ))}
          </ul>
        </nav>
        <main>
          {page.route === '/images' ? <Images region={region} account={session.account} />
            : page.route === '/key-pairs' ? <KeyPairs region={region} />
            : page.route === '/kms' ? <KmsKeys region={region} />
            : page.route === '/recycle-bin' ? <RecycleBin region={region} />
            : page.route === '/copy-schedules' ? <CopySchedules account={session.account} />
            : page.route === '/imagebuilder' ? <ImageBuilder region={region} />
            : <Placeholder title={page.title} />}
        </main>
      </div>
    </>
  );
}
