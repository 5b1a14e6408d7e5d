/**
 * Option checks shared by the presence core's constructors: bad values are rejected once, at
 * construction, with a message naming the owner, the option and the value (style.md, principle 4).
 */

/** Throws a `TypeError` naming the option unless `value` is a finite number ≥ `min` (whole if asked). */
export function assertNumberOption(
  owner: string,
  name: string,
  value: unknown,
  { min = 0, integer = false }: { min?: number; integer?: boolean } = {},
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'a whole number' : 'a finite number';
    throw new TypeError(`${owner}: ${name} must be ${kind} ≥ ${min}; got ${String(value)}`);
  }
}
