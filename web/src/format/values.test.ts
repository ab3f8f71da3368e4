import { describe, expect, it } from "vitest";
import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatNumber,
  formatTime,
  formatValue,
  runDurationMs,
  toNumber,
} from "./values";

describe("toNumber", () => {
  it("reads the server's spellings of non-finite floats", () => {
    expect(toNumber("NaN")).toBeNaN();
    expect(toNumber("Infinity")).toBe(Number.POSITIVE_INFINITY);
    expect(toNumber("-Infinity")).toBe(Number.NEGATIVE_INFINITY);
  });
  it("keeps numbers and booleans, refuses other strings and objects", () => {
    expect(toNumber(0.5)).toBe(0.5);
    expect(toNumber(true)).toBe(1);
    expect(toNumber("hello")).toBeNull();
    expect(toNumber({ a: 1 })).toBeNull();
    expect(toNumber(null)).toBeNull();
  });
});

describe("formatNumber", () => {
  it("spells NaN and infinities out", () => {
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("+Inf");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-Inf");
  });
  it("keeps integers whole and rounds floats to six significant digits", () => {
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(3.14159265)).toBe("3.14159");
    expect(formatNumber(-0)).toBe("-0");
  });
  it("uses exponents for very small and very large values", () => {
    expect(formatNumber(1.5e-7)).toBe("1.5000e-7");
    expect(formatNumber(2.5e12 + 0.5)).toBe("2.5000e+12");
  });
});

describe("formatValue", () => {
  it("formats each kind of logged value", () => {
    expect(formatValue("Infinity")).toBe("+Inf");
    expect(formatValue("Hello from run!")).toBe("Hello from run!");
    expect(formatValue(false)).toBe("False");
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatValue(null)).toBe("");
  });
});

describe("formatDuration", () => {
  it("picks the unit by size", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(185_000)).toBe("3 m 05 s");
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe("2 h 03 m");
    expect(formatDuration(4 * 86400_000 + 7 * 3600_000)).toBe("4 d 07 h");
  });
  it("is blank for unknown or impossible durations", () => {
    expect(formatDuration(null)).toBe("");
    expect(formatDuration(-5)).toBe("");
    expect(formatDuration(Number.NaN)).toBe("");
  });
});

describe("runDurationMs", () => {
  const start = "2026-01-01T00:00:00Z";
  it("runs to the end time, or to now while the run goes on", () => {
    expect(runDurationMs({ createdUtc: start, startTimeUtc: start, endTimeUtc: "2026-01-01T00:01:00Z" }, 0)).toBe(60_000);
    expect(runDurationMs({ createdUtc: start, startTimeUtc: start }, Date.parse(start) + 5000)).toBe(5000);
  });
  it("has no duration before the run started", () => {
    expect(runDurationMs({ createdUtc: start, startTimeUtc: null }, 0)).toBeNull();
  });
});

describe("times and sizes", () => {
  it("formats times as local wall-clock text", () => {
    expect(formatTime("2026-01-02T03:04:05Z")).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:05$/);
    expect(formatTime(null)).toBe("");
  });
  it("says how long ago", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(formatAgo("2026-01-01T11:59:50Z", now)).toBe("just now");
    expect(formatAgo("2026-01-01T11:57:00Z", now)).toBe("3 minutes ago");
    expect(formatAgo("2026-01-01T11:00:00Z", now)).toBe("1 hour ago");
  });
  it("formats byte counts", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
  });
});
