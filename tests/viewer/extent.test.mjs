import assert from "node:assert/strict";
import { test } from "node:test";

import {
  focusExtent,
  isValidExtent,
  unionExtents,
  unionRanges,
} from "../../viewer/js/extent.js";

test("valid extents", () => {
  assert.equal(isValidExtent([4.35, 51.99, 4.37, 52.01]), true);
  assert.equal(isValidExtent([4.37, 51.99, 4.35, 52.01]), false); // west > east
  assert.equal(isValidExtent([4.35, 51.99, 4.37]), false);
  assert.equal(isValidExtent([0, 0, 0, Number.NaN]), false);
  assert.equal(isValidExtent([-181, 0, 0, 1]), false);
  assert.equal(isValidExtent(null), false);
});

test("union of the valid extents, or null", () => {
  assert.deepEqual(
    unionExtents([
      [4.35, 51.99, 4.37, 52.01],
      null,
      [12.7, 56.0, 12.8, 56.1],
      [1, 2, 0, 3],
    ]),
    [4.35, 51.99, 12.8, 56.1],
  );
  assert.equal(unionExtents([]), null);
  assert.equal(unionExtents([null, [1, 2, 3]]), null);
  assert.equal(unionExtents(undefined), null);
});

test("union of height ranges", () => {
  assert.deepEqual(
    unionRanges([
      [-0.45, 16.8],
      null,
      [2, 40],
      [5, 1],
      [0, Number.NaN],
    ]),
    [-0.45, 40],
  );
  assert.equal(unionRanges([]), null);
  assert.equal(unionRanges(undefined), null);
});

test("focus: the union of nearby extents, else the first one", () => {
  const delft = [4.36, 52.01, 4.37, 52.014];
  const delftNorth = [4.35, 52.02, 4.36, 52.03];
  const tokyo = [139.73, 35.66, 139.75, 35.67];
  assert.deepEqual(focusExtent([delft, delftNorth]), [4.35, 52.01, 4.37, 52.03]);
  assert.deepEqual(focusExtent([null, delft, tokyo]), delft);
  assert.equal(focusExtent([null]), null);
});
