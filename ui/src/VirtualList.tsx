import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A windowed list: only the rows in view (plus a margin) are in the DOM, so a 10,000-row trace scrolls like a
 * 100-row one. Rows have one fixed height. `onNearEnd` asks for the next page while the user is still scrolling.
 */
export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  render: (item: T, index: number) => ComponentChildren;
  onNearEnd?: () => void;
  /** scroll this index into view when it changes */
  scrollTo?: number | null;
  label: string;
  testId?: string;
  onKeyDown?: (e: KeyboardEvent) => void;
  activeId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const { items, rowHeight, onNearEnd } = props;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el || props.scrollTo === null || props.scrollTo === undefined) return;
    const y = props.scrollTo * rowHeight;
    if (y < el.scrollTop || y + rowHeight > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, y - el.clientHeight / 3);
  }, [props.scrollTo, rowHeight]);

  const overscan = 10;
  const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + overscan);

  useEffect(() => {
    if (onNearEnd && last >= items.length - overscan) onNearEnd();
  }, [last, items.length, onNearEnd]);

  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} class="vrow" style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}>
        {props.render(items[i]!, i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      class="vlist"
      role="listbox"
      aria-label={props.label}
      aria-activedescendant={props.activeId}
      tabIndex={0}
      data-testid={props.testId}
      onKeyDown={props.onKeyDown}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div class="vspace" style={{ height: `${items.length * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
