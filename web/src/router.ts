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

/**
 * The region a link asks for (`?region=`), so a link to a copy in another region switches to it.
 * Only a region's shape: a crafted link must not leave a garbage region stored for later visits.
 */
export function routeRegion(route: string): string | undefined {
  const region = new URLSearchParams(route.split('?')[1] ?? '').get('region');
  return region && /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region) ? region : undefined;
}

/** A route's segment decoded; a malformed escape (`%ZZ` in a typed or crafted link) stays as it came, not a thrown URIError. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A link to a resource's page, switching region when it lives in another one. */
export const pageHref = (path: string, region?: string): string => `#${path}${region ? `?region=${encodeURIComponent(region)}` : ''}`;
