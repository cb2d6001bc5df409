import { useMemo, useState, type KeyboardEvent } from "react";
import { useSlice } from "../store.js";
import { graphHref, navigate, type GraphQuery } from "../url.js";

// The graph's toolbar: search by name (arrow keys through the matches, Enter selects and
// centres), the flag filter and the flow picker. All of it lives in the URL.

/** The search box. */
export function SearchBox({ query }: { readonly query: GraphQuery }) {
  const order = useSlice((s) => s.graph?.order);
  const [active, setActive] = useState(0);
  const text = query.q ?? "";
  const matches = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return needle === "" ? [] : (order ?? []).filter((n) => n.toLowerCase().includes(needle)).slice(0, 12);
  }, [order, text]);
  const current = matches[Math.min(active, matches.length - 1)];
  const choose = (name: string): void => navigate(graphHref(query, { select: name }));
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((i) => (matches.length === 0 ? 0 : (i + step + matches.length) % matches.length));
    } else if (event.key === "Enter" && current !== undefined) {
      event.preventDefault();
      choose(current);
    } else if (event.key === "Escape") navigate(graphHref(query, { q: null }), true);
  };
  return (
    <div className="search">
      <input
        type="search"
        placeholder="Search jobs and resources"
        aria-label="search by name"
        data-testid="search"
        role="combobox"
        aria-expanded={matches.length > 0}
        aria-controls="search-matches"
        aria-activedescendant={current === undefined ? undefined : `match-${current}`}
        value={text}
        onChange={(e) => {
          setActive(0);
          navigate(graphHref(query, { q: e.target.value }), true);
        }}
        onKeyDown={onKeyDown}
      />
      {matches.length > 0 ? (
        <ul id="search-matches" role="listbox" className="matches">
          {matches.map((name) => (
            <li
              key={name}
              id={`match-${name}`}
              role="option"
              aria-selected={name === current}
              className={name === current ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(name);
              }}
            >
              {name}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The flag filter: a flag's objects and their whole chain. */
export function FlagFilter({ query }: { readonly query: GraphQuery }) {
  const flags = useSlice((s) => s.graph?.flags);
  const names = Object.keys(flags ?? {}).sort();
  return (
    <label className="field">
      <span>Flag</span>
      <select
        data-testid="flag-filter"
        value={query.flag ?? ""}
        onChange={(e) => navigate(graphHref(query, { flag: e.target.value === "" ? null : e.target.value }))}
      >
        <option value="">all</option>
        {names.map((f) => (
          <option key={f} value={f}>
            {f}
          </option>
        ))}
        {query.flag !== null && !names.includes(query.flag) ? <option value={query.flag}>{query.flag}</option> : null}
      </select>
    </label>
  );
}
