/** The console's time helpers: wall-clock times of a resource's zone as ISO instants with the right offset, across
 * daylight-saving changes, and instants shown as that zone's local date and time. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { addDays, formatTime, localDate, offsetMinutes, startOfWeek, zonedIso } from "../src/ui/time.js";

test("a wall-clock time carries its zone's offset on that date", () => {
  assert.equal(zonedIso("2026-12-06", "14:00", "Europe/Lisbon"), "2026-12-06T14:00:00+00:00");
  assert.equal(zonedIso("2026-07-06", "14:00", "Europe/Lisbon"), "2026-07-06T14:00:00+01:00");
  assert.equal(zonedIso("2026-12-06", "09:30", "America/New_York"), "2026-12-06T09:30:00-05:00");
  assert.equal(zonedIso("2026-12-06", "09:30", "Asia/Kolkata"), "2026-12-06T09:30:00+05:30");
});

test("the offset switches on the day daylight saving starts and ends", () => {
  // Amsterdam: 29 March 2026 02:00 → 03:00 (+01:00 → +02:00); 25 October 2026 03:00 → 02:00.
  assert.equal(zonedIso("2026-03-29", "00:00", "Europe/Amsterdam"), "2026-03-29T00:00:00+01:00");
  assert.equal(zonedIso("2026-03-29", "10:00", "Europe/Amsterdam"), "2026-03-29T10:00:00+02:00");
  assert.equal(zonedIso("2026-10-25", "00:00", "Europe/Amsterdam"), "2026-10-25T00:00:00+02:00");
  assert.equal(zonedIso("2026-10-25", "10:00", "Europe/Amsterdam"), "2026-10-25T10:00:00+01:00");
  // The day has 23 hours and 25 hours: what a calendar row per hour must count.
  const length = (day: string) =>
    (Date.parse(zonedIso(addDays(day, 1), "00:00", "Europe/Amsterdam")) -
      Date.parse(zonedIso(day, "00:00", "Europe/Amsterdam"))) /
    3_600_000;
  assert.equal(length("2026-03-29"), 23);
  assert.equal(length("2026-10-25"), 25);
});

test("an instant reads as the zone's local date and time, not the machine's", () => {
  const instant = "2026-12-06T23:30:00Z";
  assert.equal(localDate(instant, "Europe/Amsterdam"), "2026-12-07");
  assert.equal(localDate(instant, "America/New_York"), "2026-12-06");
  assert.equal(formatTime(instant, "Europe/Amsterdam"), "00:30");
  assert.equal(offsetMinutes(new Date(instant), "Asia/Kathmandu"), 345);
});

test("calendar arithmetic on dates", () => {
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2026-03-01", -1), "2026-02-28");
  assert.equal(startOfWeek("2026-12-06"), "2026-11-30"); // a Sunday belongs to the week that began on Monday
  assert.equal(startOfWeek("2026-12-07"), "2026-12-07");
});
