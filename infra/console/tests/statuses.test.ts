/** Which actions a booking offers: by its status, whether it is an advisor's session, and the viewer's role. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { actionsFor } from "../src/screens/vendor/statuses.js";

test("a vendor's confirmed stay is checked in, cancelled or marked a no-show, never started", () => {
  assert.deepEqual(actionsFor("confirmed"), ["cancel", "check-in", "no-show"]);
  assert.deepEqual(actionsFor("confirmed", { role: "vendor" }), ["cancel", "check-in", "no-show"]);
});

test("an advisor decides a request and runs a confirmed session, but never checks in or marks a no-show", () => {
  assert.deepEqual(actionsFor("awaiting_approval", { session: true, role: "advisor" }), ["confirm", "reject", "cancel"]);
  assert.deepEqual(actionsFor("confirmed", { session: true, role: "advisor" }), ["cancel", "start"]);
  assert.deepEqual(actionsFor("in_progress", { session: true, role: "advisor" }), ["complete"]);
  assert.deepEqual(actionsFor("completed", { session: true, role: "advisor" }), []);
});

test("the vendor of a session may start it, complete it and mark a no-show", () => {
  assert.deepEqual(actionsFor("confirmed", { session: true, role: "vendor" }), ["cancel", "no-show", "start"]);
  assert.deepEqual(actionsFor("in_progress", { session: true, role: "vendor" }), ["complete"]);
});
