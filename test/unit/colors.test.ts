import { expect, test } from "bun:test";
import { colorsEnabled, colorsFor } from "../../src/util/colors.ts";

const tty = { isTTY: true };
const pipe = { isTTY: false };

test.each([
  ["a terminal", tty, {}, true],
  ["a pipe", pipe, {}, false],
  ["a terminal with NO_COLOR=1", tty, { NO_COLOR: "1" }, false],
  ["a terminal with an empty NO_COLOR (unset, per no-color.org)", tty, { NO_COLOR: "" }, true],
  ["a pipe with FORCE_COLOR=1", pipe, { FORCE_COLOR: "1" }, true],
  ["a pipe with FORCE_COLOR=0", pipe, { FORCE_COLOR: "0" }, false],
  ["FORCE_COLOR and NO_COLOR together: NO_COLOR wins", pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }, false],
  ["a dumb terminal", tty, { TERM: "dumb" }, false],
  ["a pipe under CI (picocolors' default would colour it)", pipe, { CI: "true" }, false],
] as const)("colours on %s", (_name, stream, env, expected) => {
  expect(colorsEnabled(stream, env)).toBe(expected);
});

test("the colours returned follow the decision", () => {
  expect(colorsFor(tty, {}).red("x")).toBe("\x1b[31mx\x1b[39m");
  expect(colorsFor(tty, { NO_COLOR: "1" }).red("x")).toBe("x");
});
