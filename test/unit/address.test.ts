import { describe, expect, test } from "bun:test";
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import { localInterfaces, parseHostPort, reachableAddresses, resolveHost } from "../../src/socket/address.ts";

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

describe("reachableAddresses", () => {
  const interfaces = {
    lo: [
      { address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" },
      { address: "::1", netmask: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", family: "IPv6", mac: "00:00:00:00:00:00", internal: true, cidr: "::1/128", scopeid: 0 },
    ],
    eth0: [
      { address: "192.0.2.2", netmask: "255.255.255.0", family: "IPv4", mac: "02:fc:00:00:00:01", internal: false, cidr: "192.0.2.2/24" },
      { address: "fd00::2", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "02:fc:00:00:00:01", internal: false, cidr: "fd00::2/64", scopeid: 0 },
      { address: "fe80::fc:ff:fe00:1", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "02:fc:00:00:00:01", internal: false, cidr: "fe80::fc:ff:fe00:1/64", scopeid: 4 },
    ],
    wlan0: [{ address: "10.1.2.3", netmask: "255.0.0.0", family: "IPv4", mac: "02:fc:00:00:00:02", internal: false, cidr: "10.1.2.3/8" }],
  } as const satisfies Record<string, NetworkInterfaceInfo[]>;

  test("a wildcard IPv4 bind: this machine's IPv4 addresses other than loopback", () => {
    expect(reachableAddresses("0.0.0.0", interfaces)).toEqual(["192.0.2.2", "10.1.2.3"]);
  });
  test("a wildcard IPv6 bind adds routable IPv6 addresses, bracketed, and leaves out link-local ones", () => {
    expect(reachableAddresses("::", interfaces)).toEqual(["192.0.2.2", "10.1.2.3", "[fd00::2]"]);
  });
  test("a specific bind is the address itself", () => {
    expect(reachableAddresses("10.1.2.3", interfaces)).toEqual(["10.1.2.3"]);
  });
  test("only loopback: loopback", () => {
    expect(reachableAddresses("0.0.0.0", { lo: interfaces.lo })).toEqual(["127.0.0.1"]);
  });
});

describe("localInterfaces", () => {
  test("the system's list, as node:os gives it", () => {
    expect(localInterfaces()).toEqual(networkInterfaces());
  });
  test("a system that will not say (libuv's uv_interface_addresses failing, as under wine) gives none, not an error", () => {
    const failing = () => {
      throw new Error("uv_interface_addresses failed");
    };
    expect(localInterfaces(failing)).toEqual({});
    expect(reachableAddresses("0.0.0.0", localInterfaces(failing))).toEqual(["127.0.0.1"]);
  });
});
