import { z } from 'zod';

/** The design guide's words: `degraded` answers but not fully (e.g. no model configured). */
export const ServiceStatusSchema = z.enum(['healthy', 'degraded', 'unhealthy', 'not_configured']);
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;

export const ServiceHealthSchema = z.object({
  status: ServiceStatusSchema,
  latency_ms: z.number().nonnegative().optional(),
  detail: z.string().optional(),
});
export type ServiceHealth = z.infer<typeof ServiceHealthSchema>;

/**
 * PostgreSQL and the mirror writing every change to it: `lag_ms` is the age of the oldest change
 * not yet in PostgreSQL (0 when none waits), `backlog` how many wait. Administrators only.
 */
export const HistoryHealthSchema = ServiceHealthSchema.extend({
  lag_ms: z.number().int().nonnegative().optional(),
  backlog: z.number().int().nonnegative().optional(),
});
export type HistoryHealth = z.infer<typeof HistoryHealthSchema>;

export const HealthResponseSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  services: z.object({
    redis: ServiceHealthSchema,
    sql_auth: ServiceHealthSchema,
    llm: ServiceHealthSchema,
    history: HistoryHealthSchema,
  }),
});
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

export const LlmDiagnosticsSchema = z.object({
  configured: z.boolean(),
  base_url_host: z.string().nullable(),
  chat_model: z.string().nullable(),
  title_model: z.string().nullable(),
  reachable: z.boolean(),
  latency_ms: z.number().nonnegative().nullable(),
  last_error: z.string().nullable(),
  last_success_at: z.string().nullable(),
  checked_at: z.string().nullable(),
});
export type LlmDiagnostics = z.infer<typeof LlmDiagnosticsSchema>;
