/** Times shown in the resource's IANA timezone, never the browser's: a Lisbon hostel's 14:00 check-in reads 14:00
 * wherever its manager is. Every helper takes the zone explicitly. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    formatters.set(key, found);
  }
  return found;
}

function toDate(value: string | Date): Date {
  return typeof value === "string" ? new Date(value) : value;
}

/** "6 Dec 2026, 14:00" in the zone. */
export function formatDateTime(value: string | Date, timeZone: string): string {
  return formatter(timeZone, { dateStyle: "medium", timeStyle: "short" }).format(toDate(value));
}

/** "6 Dec 2026" in the zone. */
export function formatDate(value: string | Date, timeZone: string): string {
  return formatter(timeZone, { dateStyle: "medium" }).format(toDate(value));
}

/** "14:00" in the zone. */
export function formatTime(value: string | Date, timeZone: string): string {
  return formatter(timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(toDate(value));
}

/** "14:00–15:00" (one day) or a date range across days, in the zone. */
export function formatRange(start: string, end: string, timeZone: string): string {
  if (localDate(start, timeZone) === localDate(end, timeZone)) {
    return `${formatDateTime(start, timeZone)}–${formatTime(end, timeZone)}`;
  }
  return `${formatDateTime(start, timeZone)} – ${formatDateTime(end, timeZone)}`;
}

/** The calendar date (YYYY-MM-DD) of an instant in the zone. */
export function localDate(value: string | Date, timeZone: string): string {
  const parts = formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(
    toDate(value),
  );
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** Minutes the zone is ahead of UTC at that instant (Lisbon in summer: 60). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const parts = formatter(timeZone, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

function pad(value: number, width = 2): string {
  return String(Math.abs(value)).padStart(width, "0");
}

/** An ISO 8601 instant with the zone's offset for a wall-clock date and time there ("2026-12-06", "14:00" in
 * Europe/Lisbon → "2026-12-06T14:00:00+00:00"): what the API's `from`/`to`/`start` parameters expect. */
export function zonedIso(date: string, time: string, timeZone: string): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  // The offset at the guess, then at the corrected instant (they differ only across a DST change).
  let offset = offsetMinutes(new Date(guess), timeZone);
  offset = offsetMinutes(new Date(guess - offset * 60_000), timeZone);
  const sign = offset < 0 ? "-" : "+";
  return `${date}T${pad(hour)}:${pad(minute)}:00${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** YYYY-MM-DD plus n days (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const moved = new Date(Date.UTC(year, month - 1, day + days));
  return moved.toISOString().slice(0, 10);
}

/** The Monday on or before a date. */
export function startOfWeek(date: string): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

/** "Mon 7 Dec" for a calendar date (no zone: it is already a local date). */
export function formatDay(date: string): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  }).format(new Date(`${date}T12:00:00Z`));
}

/** Today's date in the zone. */
export function today(timeZone: string): string {
  return localDate(new Date(), timeZone);
}
