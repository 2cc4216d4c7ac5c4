// A point in time as a command-line argument, in the forms journalctl's --since takes
// (systemd.time(7)): an absolute time (RFC 3339 / ISO 8601 with Z or an offset, or
// "YYYY-MM-DD[ HH:MM[:SS]]" in local time), a time ago ("10m", "-10m", "1h30m", "2 days ago"),
// or "now", "today", "yesterday". One home for it, so every command reads times alike.

/** Seconds per unit, with the spellings systemd.time(7) uses. */
const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

export const TIME_FORMS = `10m, 2h, 1h30m, "3 days ago", today, yesterday, 2026-12-04T03:00:00Z or "2026-12-04 03:00"`;

function startOfDay(now: Date, daysBack: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack);
}

/** The time text names, or an Error that lists the forms. `now` is for tests. */
export function parseTime(text: string, now = new Date()): Date {
  const t = text.trim().toLowerCase();
  const fail = (why = '') => new Error(`'${text}' is not a time${why}; use one of ${TIME_FORMS}`);
  if (t === 'now') return now;
  if (t === 'today') return startOfDay(now, 0);
  if (t === 'yesterday') return startOfDay(now, 1);
  if (/^\d+$/.test(t)) throw fail(' (a bare number has no unit: 10m is ten minutes ago)');
  // A time ago: one or more NUMBER UNIT pairs, optionally "-" before or "ago" after.
  const rel = /^-?\s*((?:\d+(?:\.\d+)?\s*[a-z]+\s*)+?)(?:\s*ago)?$/.exec(t);
  if (rel) {
    let seconds = 0;
    for (const [, n, unit] of rel[1].matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)) {
      const per = UNITS[unit];
      if (per === undefined) throw fail(` ('${unit}' is not a unit: s, min, h, d, w)`);
      seconds += Number(n) * per;
    }
    return new Date(now.getTime() - seconds * 1000);
  }
  // RFC 3339 / ISO 8601 with a zone: Date.parse reads it exactly.
  if (/^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(text.trim());
    if (Number.isFinite(ms)) return new Date(ms);
    throw fail(' (no such date)');
  }
  // journalctl's own form, local time.
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (local) {
    const [y, mo, d, h = '0', mi = '0', s = '0'] = local.slice(1);
    const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    // Date rolls 2026-02-31 over to March: that is a typo, not a time.
    if (
      date.getMonth() !== Number(mo) - 1 ||
      date.getDate() !== Number(d) ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(s) > 59
    )
      throw fail(' (no such date)');
    return date;
  }
  throw fail();
}
