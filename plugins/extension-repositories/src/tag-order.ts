/**
 * The order of tags a person expects: `v1.9` before `v1.10`, `1.0.0-rc.1` before `1.0.0`. Two
 * tags that both read as semantic versions (`v` optional, one to three numbers, an optional
 * pre-release) compare by the SemVer rules and come first; the other tags follow, compared by
 * runs, numbers by value (`build-9` before `build-10`), text byte-wise.
 */
const SEMVER = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Version {
  readonly core: readonly number[];
  readonly pre: readonly string[];
}

function version(tag: string): Version | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  return { core: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] ? m[4].split('.') : [] };
}

const NUMERIC = /^\d+$/;

function comparePre(a: readonly string[], b: readonly string[]): number {
  // A release sorts after its pre-releases.
  if (a.length === 0 || b.length === 0) return a.length === 0 ? (b.length === 0 ? 0 : 1) : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    if (xn && yn) return Number(x) - Number(y) || x.length - y.length;
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

const RUNS = /\d+|\D+/g;

function compareRuns(a: string, b: string): number {
  const x = a.match(RUNS) ?? [];
  const y = b.match(RUNS) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (NUMERIC.test(p) && NUMERIC.test(q)) {
      const d = Number(p) - Number(q);
      if (d !== 0) return Math.sign(d);
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/** Ascending tag order; ties (`v1` and `1.0.0`) fall back to byte order so the order is total. */
export function compareTags(a: string, b: string): number {
  if (a === b) return 0;
  const va = version(a);
  const vb = version(b);
  let d = 0;
  if (va && vb) {
    for (let i = 0; i < 3 && d === 0; i++) d = va.core[i]! - vb.core[i]!;
    if (d === 0) d = comparePre(va.pre, vb.pre);
  } else if (va || vb) {
    d = va ? -1 : 1; // versions first, then the other tags (`latest`, `main`, dates)
  } else {
    d = compareRuns(a, b);
  }
  return d !== 0 ? Math.sign(d) : a < b ? -1 : 1;
}
