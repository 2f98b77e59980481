/** How much of a resource's capacity is taken in a span of time (a calendar cell). No imports, so the node tests
 * (tests/occupancy.test.ts) compile it alone. */

export interface Claim {
  startTime: string;
  endTime: string;
  quantity: number;
}

/** The most units taken at any one moment of [from, to) (epoch ms): two 15-minute bookings one after the other in
 * the same hour take one unit, not two. */
export function peakTaken(claims: readonly Claim[], from: number, to: number): number {
  const changes: [number, number][] = [];
  for (const claim of claims) {
    const start = Math.max(from, Date.parse(claim.startTime));
    const end = Math.min(to, Date.parse(claim.endTime));
    if (start >= end) continue; // outside the span
    changes.push([start, claim.quantity], [end, -claim.quantity]);
  }
  // At one instant an end frees its units before a start takes them.
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of changes) {
    now += delta;
    peak = Math.max(peak, now);
  }
  return peak;
}
