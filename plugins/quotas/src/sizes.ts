/** Byte sizes as operators write them (`10GiB`, `500MB`, `1024`) and as messages show them. */

const UNITS: Readonly<Record<string, number>> = {
  b: 1, k: 1000, kb: 1000, m: 1000 ** 2, mb: 1000 ** 2, g: 1000 ** 3, gb: 1000 ** 3, t: 1000 ** 4, tb: 1000 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, pib: 1024 ** 5,
};

/** A size pattern for schemas: an integer with an optional unit, or -1 for unlimited. */
export const SIZE_PATTERN = '^(-1|[0-9]+(\\.[0-9]+)?\\s*([kKmMgGtTpP]i?[bB]?|[bB])?)$';

/** Bytes of `value`; -1 (unlimited) stays -1. Throws a RangeError for anything else. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (value === -1 || (Number.isSafeInteger(value) && value >= 0)) return value;
    throw new RangeError(`${value} is not a size (bytes, or -1 for unlimited)`);
  }
  const match = /^\s*(-1|[0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = match ? UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new RangeError(`"${value}" is not a size (e.g. 10GiB, 500MB, 1024, -1)`);
  if (match[1] === '-1') {
    if (match[2]) throw new RangeError(`"${value}" is not a size: -1 takes no unit`);
    return -1;
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`"${value}" is too large`);
  return bytes;
}

/** `9.5 MiB`, `512 B`. */
export function formatSize(bytes: number): string {
  if (bytes < 0) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${Number(n.toFixed(2))} ${units[i]}`;
}

/** The project of a repository (its first path segment), or undefined for a name without one. */
export function projectOf(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : undefined;
}
