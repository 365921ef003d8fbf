import { useEffect, useState } from 'preact/hooks';

/** Client-side routes; the server answers every non-API GET with the page, so each URL is a deep link. */
export type Route =
  | { view: 'list'; params: URLSearchParams }
  | { view: 'trace'; id: string; seq: number | null }
  | { view: 'diff'; a: string; b: string; untilA: number | undefined };

export function parseRoute(): Route {
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(location.search);
  if (parts[0] === 'trace' && parts[1]) {
    const seq = params.get('seq');
    return { view: 'trace', id: parts[1], seq: seq && /^\d+$/.test(seq) ? Number(seq) : null };
  }
  if (parts[0] === 'diff') {
    const u = params.get('untilA');
    return {
      view: 'diff',
      a: params.get('a') ?? '',
      b: params.get('b') ?? '',
      untilA: u && /^\d+$/.test(u) ? Number(u) : undefined,
    };
  }
  return { view: 'list', params };
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}

export const traceHref = (id: string, seq?: number) =>
  `/trace/${encodeURIComponent(id)}${seq !== undefined ? `?seq=${seq}` : ''}`;
export const diffHref = (a: string, b: string, untilA?: number) =>
  `/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}${untilA !== undefined ? `&untilA=${untilA}` : ''}`;

/** A link that navigates in-page (and still opens in a new tab with a modifier key). */
export function onLink(e: MouseEvent, href: string): void {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(href);
}
