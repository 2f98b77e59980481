/** Money helpers: integer minor units and a currency, whatever the currency's exponent. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { minorDigits, minorToText, parseMoney } from "../src/ui/money.js";

test("each currency's minor units", () => {
  assert.equal(minorDigits("EUR"), 2);
  assert.equal(minorDigits("JPY"), 0);
  assert.equal(minorDigits("KWD"), 3);
});

test("typed amounts become integer minor units, or null", () => {
  assert.equal(parseMoney("30.00", "EUR"), 3000);
  assert.equal(parseMoney("7,5", "EUR"), 750);
  assert.equal(parseMoney("0.07", "EUR"), 7);
  assert.equal(parseMoney("1200", "JPY"), 1200);
  assert.equal(parseMoney("1.250", "KWD"), 1250);
  assert.equal(parseMoney("1.005", "EUR"), null); // more precision than the currency has
  assert.equal(parseMoney("12.5", "JPY"), null);
  assert.equal(parseMoney("twelve", "EUR"), null);
  assert.equal(parseMoney("-5", "EUR"), null);
  assert.equal(parseMoney("", "EUR"), null);
});

test("minor units back to what an input shows", () => {
  assert.equal(minorToText(2500, "EUR"), "25.00");
  assert.equal(minorToText(1200, "JPY"), "1200");
  assert.equal(minorToText(1250, "KWD"), "1.250");
  for (const minor of [0, 1, 99, 100, 123456]) assert.equal(parseMoney(minorToText(minor, "EUR"), "EUR"), minor);
});
