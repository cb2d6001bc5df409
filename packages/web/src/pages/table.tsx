import type { ReactNode } from "react";

/** A column: its heading and how a row shows in it. */
export interface Column<T> {
  readonly head: string;
  readonly cell: (row: T) => ReactNode;
}

/** A simple table of rows. */
export function Table<T>(props: {
  readonly label: string;
  readonly rows: readonly T[] | undefined;
  readonly columns: readonly Column<T>[];
  readonly rowKey: (row: T) => string | number;
  readonly empty: string;
}) {
  const { rows, columns } = props;
  if (rows === undefined) return <p className="muted">Loading…</p>;
  if (rows.length === 0) return <p className="muted">{props.empty}</p>;
  return (
    <table className="table" aria-label={props.label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.head} scope="col">
              {c.head}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={props.rowKey(row)} data-row={props.rowKey(row)}>
            {columns.map((c) => (
              <td key={c.head}>{c.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
