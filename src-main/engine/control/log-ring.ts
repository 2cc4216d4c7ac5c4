// The engine's recent log lines, kept in memory for the control API's `logs` and `subscribe`
// (the same lines go to stdout, i.e. journald under systemd). Bounded: the oldest line goes
// when a new one comes past the capacity.
import type { LogLine } from '../../shared/status.js';

export class LogRing {
  private readonly lines: LogLine[] = [];
  private seq = 0;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(private readonly capacity = 2000) {}

  push(
    text: string,
    level: LogLine['level'] = /^(warning|firewall warning)\b/i.test(text) ? 'warn' : 'info',
  ): LogLine {
    const line: LogLine = { seq: ++this.seq, time: new Date().toISOString(), level, text };
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
    for (const l of this.listeners) l(line);
    return line;
  }

  /** Lines with seq > since, the newest `limit` of them. */
  since(since = 0, limit = 500): LogLine[] {
    const after = this.lines.filter((l) => l.seq > since);
    return after.slice(Math.max(0, after.length - limit));
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
