import { describe, expect, test } from "bun:test";
import { accessToken, DEFAULT_WEB_HOST, hostHeaderAllowed, isLoopbackHost, parseWebAddress, showsToken, viewerUrl, WebOptionError } from "../../src/web/web-access.ts";

describe("--web [ADDR:]PORT", () => {
  test.each([
    ["8080", { host: DEFAULT_WEB_HOST, port: 8080 }],
    ["0", { host: DEFAULT_WEB_HOST, port: 0 }],
    ["0.0.0.0:8080", { host: "0.0.0.0", port: 8080 }],
    ["192.168.1.5:9000", { host: "192.168.1.5", port: 9000 }],
    ["[::]:8080", { host: "::", port: 8080 }],
    ["[::1]:8080", { host: "::1", port: 8080 }],
    ["localhost:8080", { host: "localhost", port: 8080 }],
  ])("%s", (text, expected) => {
    expect(parseWebAddress(text)).toEqual(expected);
  });

  test.each(["", "http://x:80", "8080:", "65536", "1.2.3.4:", "::1:8080", "example.com:8080", "12345678"])("%p is refused with a clear message", (text) => {
    expect(() => parseWebAddress(text)).toThrow(WebOptionError);
  });
});

describe("who may watch", () => {
  test("loopback addresses are told apart from the rest", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.5", "10.127.0.1"]) expect(isLoopbackHost(host)).toBe(false);
  });

  test("no token on loopback unless one is given; elsewhere the one given or a random one", () => {
    expect(accessToken("127.0.0.1", undefined)).toBeUndefined();
    expect(accessToken("127.0.0.1", "a-given-token-0123")).toBe("a-given-token-0123");
    expect(accessToken("0.0.0.0", "a-given-token-0123")).toBe("a-given-token-0123");
    const made = accessToken("0.0.0.0", undefined)!;
    expect(made).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(accessToken("0.0.0.0", undefined)).not.toBe(made);
  });

  test.each(["short", "has space in it 0123", "quote\"in-it-0123456", "x".repeat(129)])("a weak or URL-unsafe token %p is refused", (token) => {
    expect(() => accessToken("0.0.0.0", token)).toThrow(WebOptionError);
  });

  test("a request shows the token only with exactly it", () => {
    const token = "a-given-token-0123";
    expect(showsToken(new URL(`http://h/?token=${token}`), token)).toBe(true);
    expect(showsToken(new URL("http://h/"), token)).toBe(false);
    expect(showsToken(new URL("http://h/?token="), token)).toBe(false);
    expect(showsToken(new URL(`http://h/?token=${token}x`), token)).toBe(false);
    expect(showsToken(new URL(`http://h/?token=${token.slice(1)}`), token)).toBe(false);
    expect(showsToken(new URL("http://h/"), undefined)).toBe(true);
  });

  test("without a token, only loopback host names are answered (DNS rebinding)", () => {
    for (const host of ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "localhost"]) expect(hostHeaderAllowed(host, undefined)).toBe(true);
    for (const host of ["evil.example:8080", "192.168.1.5:8080", null]) expect(hostHeaderAllowed(host, undefined)).toBe(false);
    expect(hostHeaderAllowed("evil.example:8080", "a-given-token-0123")).toBe(true);
  });

  test("the URL printed carries the token when there is one, IPv6 in brackets", () => {
    expect(viewerUrl("127.0.0.1", 8080, undefined)).toBe("http://127.0.0.1:8080/");
    expect(viewerUrl("192.168.1.5", 8080, "tok")).toBe("http://192.168.1.5:8080/?token=tok");
    expect(viewerUrl("::1", 8080, undefined)).toBe("http://[::1]:8080/");
    expect(viewerUrl("[fd00::5]", 8080, undefined)).toBe("http://[fd00::5]:8080/");
  });
});
