import { describe, expect, it } from "vitest";
import { isPrivateAddress, privateTargetReason, signatureHeader } from "./relay.ts";

describe("webhook targets (issue 11, item 11)", () => {
  it("classifies loopback, private, link-local, CGNAT, unspecified and fc00::/7 as private", () => {
    for (const ip of ["127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
      "100.64.0.1", "0.0.0.0", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:127.0.0.1", "[::1]"]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "172.32.0.1", "192.169.0.1", "1.1.1.1", "2606:4700::1111", "fb00::1"]) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });

  it("resolves every record: one private address among public ones refuses the target", async () => {
    const resolve = (() => Promise.resolve([{ address: "93.184.216.34", family: 4 }, { address: "10.0.0.7", family: 4 }])) as never;
    expect(await privateTargetReason("https://rebind.example.test/h", resolve)).toMatch(/private address \(10\.0\.0\.7\)/);
    const ok = (() => Promise.resolve([{ address: "93.184.216.34", family: 4 }])) as never;
    expect(await privateTargetReason("https://public.example.test/h", ok)).toBeNull();
    expect(await privateTargetReason("http://2130706433/h")).toMatch(/127\.0\.0\.1/); // URL parsing normalises it
    expect(await privateTargetReason("http://[fc00::1]/h")).toMatch(/private/);
  });

  it("never signs with no secret (nothing is sent unsigned)", () => {
    expect(() => signatureHeader([], "id", new Date(), "{}")).toThrow();
  });
});
