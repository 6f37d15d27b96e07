/**
 * Every known conformance gap, per backend, with the reason: the one place to look. A case listed here
 * still runs; when it fails the test passes with a printed "known gap" line, and when it passes a line
 * asks for the entry to be removed. Nothing is skipped silently.
 *
 * `match` is a substring of the case name as printed by the suite (e.g. "unary-edge relu").
 */
export interface Gap {
  backend: string;
  match: string;
  reason: string;
}

export const KNOWN_GAPS: readonly Gap[] = [
];

export function findGap(backend: string, caseName: string): Gap | undefined {
  return KNOWN_GAPS.find((g) => g.backend === backend && caseName.includes(g.match));
}

let printed = false;

/** Prints the list once per process (each suite file is its own process). */
export function printGaps(backends: readonly string[]): void {
  if (printed) return;
  printed = true;
  const relevant = KNOWN_GAPS.filter((g) => backends.includes(g.backend));
  const lines = relevant.length === 0
    ? ['  (none)']
    : relevant.map((g) => `  [${g.backend}] ${g.match}: ${g.reason}`);
  console.log(`known conformance gaps for ${backends.join(', ')}:\n${lines.join('\n')}`);
}
