import { expect, test } from "bun:test";
import { parseHostPort, resolveHost } from "../../src/socket/address.ts";

test.each([
  ["127.0.0.1:9999", { host: "127.0.0.1", port: 9999 }],
  ["[::1]:5000", { host: "::1", port: 5000 }],
  ["localhost:1", { host: "localhost", port: 1 }],
  ["4000", { host: "127.0.0.1", port: 4000 }],
])("%s", (text, expected) => {
  expect(parseHostPort(text)).toEqual(expected);
});

test.each(["", "host", "host:", ":99", "::1:99", "host:0", "host:65536", "host:12ab"])("refuses %p", (text) => {
  expect(() => parseHostPort(text)).toThrow();
});

test("names resolve to addresses, addresses pass through", async () => {
  expect(await resolveHost("127.0.0.1")).toEqual({ address: "127.0.0.1", family: 4 });
  expect(await resolveHost("::1")).toEqual({ address: "::1", family: 6 });
  expect((await resolveHost("localhost")).address).toMatch(/^(127\.0\.0\.1|::1)$/);
  await expect(resolveHost("no-such-host.invalid")).rejects.toThrow('cannot resolve host "no-such-host.invalid"');
});
