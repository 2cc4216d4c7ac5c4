// Numbers for people, and rates from two successive statuses: pure functions shared by the
// diagnostics window and `clatbar status`, so both say the same thing the same way.
import type { Traffic } from './ipc.js';

const int = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return int.format(n);
}

/** "1 packet", "2 packets". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${int.format(n)} ${n === 1 ? one : many}`;
}

/** SI bytes: 999 B, 1.2 kB, 34 MB. */
export function bytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Bits per second, as network people read them. */
export function bitRate(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  if (bits < 1000) return `${Math.round(bits)} bit/s`;
  const units = ['kbit/s', 'Mbit/s', 'Gbit/s'];
  let v = bits;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function packetRate(perSecond: number): string {
  if (perSecond === 0) return '0 pkt/s';
  if (perSecond < 10) return `${perSecond.toFixed(1)} pkt/s`;
  return `${int.format(Math.round(perSecond))} pkt/s`;
}

export interface Rates {
  packets4to6: number;
  packets6to4: number;
  tunInBytes?: number;
  tunOutBytes?: number;
}

/**
 * Per-second rates between two samples; null when there is no earlier sample, no time passed,
 * or a counter went backwards (a new engine started from zero).
 */
export function rates(prev: Traffic | undefined, cur: Traffic | undefined): Rates | null {
  if (!prev || !cur) return null;
  const dt = (cur.sampledAt - prev.sampledAt) / 1000;
  if (!(dt > 0)) return null;
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  const all = [
    d(prev.packets4to6, cur.packets4to6),
    d(prev.packets6to4, cur.packets6to4),
    d(prev.tunIn?.bytes, cur.tunIn?.bytes),
    d(prev.tunOut?.bytes, cur.tunOut?.bytes),
  ];
  if (all.some((x) => x !== undefined && x < 0)) return null;
  const [p46, p64, tin, tout] = all;
  return {
    packets4to6: (p46 ?? 0) / dt,
    packets6to4: (p64 ?? 0) / dt,
    tunInBytes: tin === undefined ? undefined : tin / dt,
    tunOutBytes: tout === undefined ? undefined : tout / dt,
  };
}

/**
 * How long since an ISO time, in the language's own units (Intl's unit formats, which Node and
 * Chromium both have): "3 min", "2 hr 5 min", "3 days" in English, "3분", "2시간 5분", "3일" in Korean.
 */
export function since(iso: string, now: number, locale = 'en'): string {
  const unit = (n: number, u: 'second' | 'minute' | 'hour' | 'day') =>
    new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: u,
      unitDisplay: u === 'day' ? 'long' : 'short',
    }).format(n);
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.floor(s / 60), 'minute');
  const h = Math.floor(s / 3600);
  if (h < 48) return `${unit(h, 'hour')} ${unit(Math.floor((s % 3600) / 60), 'minute')}`;
  return unit(Math.floor(h / 24), 'day');
}
