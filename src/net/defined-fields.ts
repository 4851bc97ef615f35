/**
 * The fields of `o` that hold a value. For what goes on a wire, where a field present as
 * `undefined` would still be sent: Node's querystring writes `target=` into an Engine API query,
 * http.request refuses an undefined header, @actions/core writes `::error ::` for undefined
 * annotation properties. And for a report merged onto what is already known, which an undefined
 * field would erase. Everywhere else an optional field is simply left `undefined`
 * (exactOptionalPropertyTypes is off, and nothing reads a field's presence).
 */
export function definedFields<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
