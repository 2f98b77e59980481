/** Progress for long work: a spinner with a label, inside a region marked aria-busy. */
export function Busy({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="busy" aria-busy="true" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}
