// Icons drawn as SVG, so they show on systems without an emoji font.

/** A pin (a pinned input). */
export function PinIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <path d="M10 1l5 5-2 1-3 3 .5 3.5L9 15l-3-3-4 4-1-1 4-4-3-3 1.5-1.5L7 6l3-3z" fill="currentColor" />
    </svg>
  );
}

/** A pause sign (a paused job). */
export function PauseIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="11" height="11" aria-hidden="true">
      <rect x="3" y="2" width="3.5" height="12" fill="currentColor" />
      <rect x="9.5" y="2" width="3.5" height="12" fill="currentColor" />
    </svg>
  );
}
