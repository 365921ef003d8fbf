import type {
  ApiErrorBody,
  DiffReport,
  EventDetail,
  EventsPage,
  ReplayJob,
  ReplayRequest,
  StepsPage,
  TraceDetail,
  TraceListPage,
} from '../../src/inspect/schemas.js';

export type { EventDetail, EventsPage };

/** The access token from the URL the server printed (kept for the tab, then dropped from the address bar). */
const TOKEN_KEY = 'retrace-token';
export function initToken(): void {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody['error'],
  ) {
    super(body.message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new ApiError(res.status, (body as ApiErrorBody).error);
  return body as T;
}

function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export interface ListFilters {
  agent?: string;
  status?: string;
  since?: string;
  model?: string;
  divergent?: boolean;
  q?: string;
}

export const api = {
  meta: () =>
    call<{ tenants: string[]; store: { kind: string; location: string; readOnly: boolean }; canReplay: boolean }>(
      '/api/meta',
    ),
  traces: (f: ListFilters, cursor?: string, limit = 50) =>
    call<TraceListPage>(`/api/traces${qs({ ...f, divergent: f.divergent ? 'true' : undefined, cursor, limit })}`),
  trace: (id: string) => call<TraceDetail>(`/api/traces/${encodeURIComponent(id)}`),
  steps: (id: string, from: number, nondeterminism: boolean, limit = 500) =>
    call<StepsPage>(`/api/traces/${encodeURIComponent(id)}/steps${qs({ from, limit, nondeterminism })}`),
  event: (id: string, seq: number) => call<EventDetail>(`/api/traces/${encodeURIComponent(id)}/events/${seq}`),
  diff: (a: string, b: string, untilA?: number) => call<DiffReport>(`/api/diff${qs({ a, b, untilA })}`),
  replay: (r: ReplayRequest) => call<ReplayJob>('/api/replays', { method: 'POST', body: JSON.stringify(r) }),
  job: (id: string) => call<ReplayJob>(`/api/replays/${encodeURIComponent(id)}`),
};
