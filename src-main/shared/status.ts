// The engine's status document and the shapes the control API pushes. PLACEHOLDER written
// before the daemon work started: the daemon issue owns this file and defines the real zod
// schema (state off|standby|active|attention|stopping, network, classification, policy,
// uplink, prefix, transitions, and every field the foreground status has today).
import { z } from 'zod';

/** A message meant for a person: a stable code and its parameters beside the English text. */
export const MessageSchema = z.object({
  code: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  text: z.string(),
});
export type Message = z.infer<typeof MessageSchema>;

export const EngineStatusDocSchema = z.object({ state: z.string() }).passthrough();
export type EngineStatusDoc = z.infer<typeof EngineStatusDocSchema>;

export const LogLineSchema = z.object({
  seq: z.number().int(),
  time: z.string(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  text: z.string(),
  code: z.string().optional(),
  params: MessageSchema.shape.params,
});
export type LogLine = z.infer<typeof LogLineSchema>;

export const NetworkRecordSchema = z.object({ id: z.string(), name: z.string() }).passthrough();
export type NetworkRecord = z.infer<typeof NetworkRecordSchema>;

export type EngineEvent = { type: 'state'; status: EngineStatusDoc } | { type: 'log'; line: LogLine };
