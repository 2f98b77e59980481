/** A cursor-paged list for a screen: `load(null, fetchPage)` reads the first page, `load(next, fetchPage)` appends
 * the following one ("Load more"); a newer load wins over a slower older one. */
import { useCallback, useRef, useState } from "react";

export interface PageOf<T> {
  items: T[];
  next?: string | null;
}

export function usePages<T>() {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const generation = useRef(0);

  const load = useCallback(
    async (cursor: string | null, fetchPage: (cursor: string | null) => Promise<PageOf<T>>): Promise<void> => {
      const mine = ++generation.current;
      setBusy(true);
      setError(null);
      try {
        const page = await fetchPage(cursor);
        if (mine !== generation.current) return;
        setItems((before) => (cursor && before ? [...before, ...page.items] : page.items));
        setNext(page.next ?? null);
      } catch (failure) {
        if (mine === generation.current) setError(failure);
      } finally {
        if (mine === generation.current) setBusy(false);
      }
    },
    [],
  );

  return { items, setItems, next, error, setError, busy, load };
}
