/** How numbers, metric values, times, durations and sizes read in the studio. */

/** A metric value as JSON brings it: the server sends NaN and ±inf as these strings. */
export type JsonValue = number | string | boolean | null | Record<string, unknown> | unknown[];

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

/** The number a metric value stands for (NaN and ±inf included), or null for non-numbers. */
export function toNumber(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value in NON_FINITE) return NON_FINITE[value] ?? null;
  return null;
}

/** A number for a table cell or tooltip: NaN and ±inf spelled out, never blank. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Object.is(value, -0)) return "-0";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

/** Any logged value as text: numbers formatted, strings as they are, objects as JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  const number = toNumber(value);
  if (number !== null && typeof value !== "boolean") return formatNumber(number);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A duration in milliseconds, e.g. "850 ms", "42 s", "3 m 05 s", "2 h 03 m", "4 d 07 h". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const pad = (n: number): string => String(n).padStart(2, "0");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${pad(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} m`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)} h`;
}

/** How long a run has taken: start (or creation) to end, or to `now` while it goes on. */
export function runDurationMs(
  run: { startTimeUtc?: string | null; createdUtc: string; endTimeUtc?: string | null },
  now: number,
): number | null {
  const start = run.startTimeUtc ?? null;
  if (start === null) return null;
  const begin = Date.parse(start);
  const end = run.endTimeUtc ? Date.parse(run.endTimeUtc) : now;
  return Number.isNaN(begin) || Number.isNaN(end) ? null : Math.max(0, end - begin);
}

/** An ISO-8601 UTC time as local "YYYY-MM-DD HH:MM:SS" (blank for none). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** "3 minutes ago"-style text for last-activity columns. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return "";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return "just now";
  const units: [number, string][] = [
    [86400 * 365, "year"],
    [86400 * 30, "month"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "just now";
}

/** A byte count as "512 B", "1.5 KB", "12.3 MB". */
export function formatBytes(size: number): string {
  if (!Number.isFinite(size) || size < 0) return "";
  if (size < 1024) return `${size} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
