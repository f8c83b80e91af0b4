/** The header row of a money table: what a row is, then its amount columns (right-aligned numbers). */
export function MoneyHead({ first, columns }: { first: string; columns: string[] }) {
  return (
    <thead>
      <tr>
        <th scope="col">{first}</th>
        {columns.map((c) => (
          <th key={c} scope="col" className="num">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
