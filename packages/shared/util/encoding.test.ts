import { describe, expect, it } from "vitest";
import { fromBase64, sha256Hex, toBase64, toHex, utf8 } from "./encoding.ts";

describe("encoding", () => {
  it("round-trips base64 and rejects non-base64", () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(toBase64(bytes)).toBe("AAEC+v8=");
    expect(fromBase64("AAEC+v8=")).toEqual(bytes);
    expect(fromBase64("AAEC+v8")).toEqual(bytes);
    expect(fromBase64("not base64!")).toBeNull();
    expect(fromBase64("A")).toBeNull();
  });

  it("hex-encodes and hashes", async () => {
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe("000fff");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex(utf8("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
