/**
 * The SLA policy TMS Admin sets: tenant-scoped flags owned by the freight core and the Broker
 * portal. Their bounds are the flags' definitions (public.flag_definitions min/max), which
 * Postgres enforces on every write (bad_flag_value); this list only names which flags are
 * policy, and what each means for the settings page.
 */
export const SLA_POLICY = {
  "freight.tenderSlaMinutes": "How long a carrier has to answer a tender",
  "broker.checkCallMinutes": "How often a load on its trip must report a check call",
  "broker.appointmentRiskMinutes": "How far ahead a silent load's next window counts as at risk",
} as const;

export type SlaKey = keyof typeof SLA_POLICY;
export const SLA_KEYS = Object.keys(SLA_POLICY) as [SlaKey, ...SlaKey[]];

/** The tenant scope a policy value is written at. */
export const tenantScope = (tenantId: string): string => `tenant:${tenantId}`;
