// The signed-in frame: header (account, dev-mode switcher, region, sign-out), navigation and the page.
import { useEffect, useState } from 'preact/hooks';
import { currentRegion, ec2, setRegion, signIn, signOut, type SessionInfo } from './api.ts';
import { currentRoute, navigate, routePath, routeRegion, useRoute } from './router.ts';
import { Images } from './pages/Images.tsx';
import { ImagePage } from './pages/images/ImagePage.tsx';
import { Placeholder } from './pages/Placeholder.tsx';
import { InstancePage } from './pages/instances/InstancePage.tsx';
import { InstancesList } from './pages/instances/InstancesList.tsx';
import { SnapshotsPage } from './pages/snapshots/SnapshotsPage.tsx';
import { VolumesPage } from './pages/volumes/VolumesPage.tsx';
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
  const linkRegion = routeRegion(route);
  // A link into another region (a copy's page) switches before its page asks anything.
  if (linkRegion && linkRegion !== currentRegion()) setRegion(linkRegion);
  const [region, setRegionState] = useState(currentRegion());
  useEffect(() => { if (linkRegion) setRegionState(linkRegion); }, [linkRegion]);
  const [regions, setRegions] = useState<string[]>([currentRegion()]);
  const [switchTo, setSwitchTo] = useState(session.account);

  useEffect(() => {
    ec2<{ Regions?: { RegionName: string }[] }>('DescribeRegions', { AllRegions: true })
      .then((r) => setRegions((r.Regions ?? []).map((x) => x.RegionName).sort()))
      .catch(() => undefined);
  }, [session.account]);

  const changeRegion = (r: string) => {
    // The selector wins over a link's region: drop it from the route.
    if (routeRegion(currentRoute())) navigate(routePath(currentRoute()));
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
  const path = routePath(route);
  const page = PAGES.find((p) => path === p.route || path.startsWith(`${p.route}/`)) ?? PAGES[0];
  const shownRegion = linkRegion ?? region;

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
          {path.startsWith('/images/')
            ? <ImagePage key={`${shownRegion}${path}`} imageId={decodeURIComponent(path.slice('/images/'.length))} region={shownRegion} account={session.account} />
            : path.startsWith('/instances/') ? <InstancePage key={`${shownRegion}${path}`} instanceId={decodeURIComponent(path.slice('/instances/'.length))} region={shownRegion} />
            : page.route === '/images' ? <Images region={shownRegion} account={session.account} />
            : page.route === '/instances' ? <InstancesList region={shownRegion} account={session.account} />
            : page.route === '/snapshots' ? <SnapshotsPage region={shownRegion} account={session.account} />
            : page.route === '/volumes' ? <VolumesPage region={shownRegion} account={session.account} />
            : page.route === '/key-pairs' ? <KeyPairs region={shownRegion} />
            : page.route === '/kms' ? <KmsKeys region={shownRegion} />
            : page.route === '/recycle-bin' ? <RecycleBin region={shownRegion} />
            : page.route === '/copy-schedules' ? <CopySchedules account={session.account} />
            : page.route === '/imagebuilder' ? <ImageBuilder region={shownRegion} />
            : <Placeholder title={page.title} />}
        </main>
      </div>
    </>
  );
}
