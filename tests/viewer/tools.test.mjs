// The tools' pure parts: the URL's `sun` key (url-state.js), the shadows' local date-time
// input (shadows.js helpers) and the screenshot's file name. The local-time checks run in
// Europe/Stockholm (Node applies a TZ set at run time to Date).
import assert from "node:assert/strict";
import { test } from "node:test";

import { fromLocalInput, nowMinute, toLocalInput } from "../../viewer/js/shadows.js";
import { screenshotName } from "../../viewer/js/screenshot.js";
import {
  changeKind,
  decodeState,
  emptyState,
  encodeState,
  parseSun,
} from "../../viewer/js/url-state.js";

process.env.TZ = "Europe/Stockholm";

test("sun: shadows on at an instant, kept apart from the sensors' t", () => {
  const state = { ...emptyState(), sun: "2026-12-21T08:30:00Z", time: "2026-11-27T10:00:00Z" };
  const hash = encodeState(state);
  assert.equal(hash, "#t=2026-11-27T10:00:00Z&sun=2026-12-21T08:30:00Z");
  const back = decodeState(hash);
  assert.equal(back.sun, "2026-12-21T08:30:00Z");
  assert.equal(back.time, "2026-11-27T10:00:00Z");
  assert.equal(decodeState("#cam=4,52,300,0,-35").sun, null); // absent: shadows off
});

test("sun is parsed strictly, rounded to the minute and clamped to 1900–2100", () => {
  assert.equal(parseSun("2026-12-21T08:30Z"), "2026-12-21T08:30:00Z");
  assert.equal(parseSun("2026-12-21T08:30:59.999Z"), "2026-12-21T08:30:00Z");
  assert.equal(parseSun("1066-10-14T09:00:00Z"), "1900-01-01T00:00:00Z");
  assert.equal(parseSun("9999-01-01T00:00:00Z"), "2100-12-31T23:59:00Z");
  for (const bad of ["", "now", "2026-12-21", "2026-12-21T08:30", "2026-13-45T99:99Z", null, 5]) {
    assert.equal(parseSun(bad), null, String(bad));
  }
  assert.equal(decodeState("#sun=<script>").sun, null);
});

test("shadows on or off push a history entry, moving the time replaces it", () => {
  const off = emptyState();
  const on = { ...off, sun: "2026-12-21T08:30:00Z" };
  const later = { ...off, sun: "2026-12-21T14:00:00Z" };
  assert.equal(changeKind(off, on), "push");
  assert.equal(changeKind(on, off), "push");
  assert.equal(changeKind(on, later), "replace");
  assert.equal(changeKind(on, { ...on }), null);
});

test("the date-time input is local time: Europe/Stockholm in winter is UTC+1, summer UTC+2", () => {
  assert.equal(fromLocalInput("2026-12-21T09:30"), "2026-12-21T08:30:00Z");
  assert.equal(fromLocalInput("2026-06-21T12:00"), "2026-06-21T10:00:00Z");
  assert.equal(toLocalInput("2026-12-21T08:30:00Z"), "2026-12-21T09:30");
  assert.equal(toLocalInput("2026-06-21T10:00:00Z"), "2026-06-21T12:00");
  assert.equal(toLocalInput("not a time"), "");
  for (const bad of ["", "2026-12-21", "21/12/2026 09:30", "2026-12-21T9:30", null]) {
    assert.equal(fromLocalInput(bad), null, String(bad));
  }
});

test("now to the minute, and the screenshot's file name", () => {
  assert.equal(nowMinute(Date.UTC(2026, 10, 27, 23, 55, 7, 123)), "2026-11-27T23:55:00Z");
  // 23:55:07 UTC is 00:55:07 the next day in Stockholm.
  assert.equal(screenshotName(new Date(Date.UTC(2026, 10, 27, 23, 55, 7))), "twin-2026-11-28-005507.png");
});
