// Hash routes (#/images, #/images/ami-...): the server only ever serves index.html.
import { useEffect, useState } from 'preact/hooks';

export function currentRoute(): string {
  return location.hash.replace(/^#/, '') || '/images';
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function navigate(route: string): void {
  location.hash = `#${route}`;
}

/** A route's path without its query: `/images/ami-1?region=us-west-2` → `/images/ami-1`. */
export const routePath = (route: string): string => route.split('?', 1)[0];

/** The region a link asks for (`?region=`), so a link to a copy in another region switches to it. */
export const routeRegion = (route: string): string | undefined => new URLSearchParams(route.split('?')[1] ?? '').get('region') ?? undefined;

/** A link to a resource's page, switching region when it lives in another one. */
export const pageHref = (path: string, region?: string): string => `#${path}${region ? `?region=${encodeURIComponent(region)}` : ''}`;
