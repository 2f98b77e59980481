/** A calendar cell's occupancy is the peak of what is taken at once, not the sum of what touches the cell. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { peakTaken } from "../src/screens/vendor/occupancy.js";

const hour = (h: number, m = 0) => Date.UTC(2026, 11, 7, h, m);
const claim = (from: number, to: number, quantity = 1) => ({
  startTime: new Date(from).toISOString(),
  endTime: new Date(to).toISOString(),
  quantity,
});

test("back-to-back bookings in one hour take one unit", () => {
  const quarters = [claim(hour(10), hour(10, 15)), claim(hour(10, 15), hour(10, 30)), claim(hour(10, 45), hour(11))];
  assert.equal(peakTaken(quarters, hour(10), hour(11)), 1);
});

test("overlapping bookings add up, with their quantities", () => {
  const claims = [claim(hour(9), hour(12), 2), claim(hour(10, 30), hour(10, 45), 3), claim(hour(10, 40), hour(11))];
  assert.equal(peakTaken(claims, hour(10), hour(11)), 6);
});

test("only the part inside the cell counts", () => {
  const claims = [claim(hour(9), hour(10)), claim(hour(11), hour(12)), claim(hour(10, 59), hour(11, 30), 2)];
  assert.equal(peakTaken(claims, hour(10), hour(11)), 2);
  assert.equal(peakTaken([], hour(10), hour(11)), 0);
});
