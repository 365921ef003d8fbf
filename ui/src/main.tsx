import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, initToken } from './api.js';
import { DiffView } from './DiffView.js';
import { onLink, useRoute } from './router.js';
import { TraceList } from './TraceList.js';
import { TraceView } from './TraceView.js';
import './styles.css';

function App() {
  const route = useRoute();
  const [meta, setMeta] = useState<Awaited<ReturnType<typeof api.meta>> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .meta()
      .then(setMeta)
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/" onClick={(e) => onLink(e, '/')} class="brand">
          retrace
        </a>
        <nav aria-label="Main">
          <a href="/" onClick={(e) => onLink(e, '/')}>
            Traces
          </a>
        </nav>
        {meta && (
          <span class="muted">
            {meta.store.kind} · {meta.store.location} · tenant {meta.tenants.join(', ')}
          </span>
        )}
      </header>
      <main id="main">
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        {route.view === 'list' && <TraceList params={route.params} />}
        {route.view === 'trace' && <TraceView id={route.id} seq={route.seq} canReplay={meta?.canReplay ?? false} />}
        {route.view === 'diff' && <DiffView a={route.a} b={route.b} untilA={route.untilA} />}
      </main>
    </>
  );
}

initToken();
render(<App />, document.getElementById('app')!);
